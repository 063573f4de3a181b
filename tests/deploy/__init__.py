"""Offline verification of the deployment: Dockerfile, Helm chart, deploy.sh (no cluster needed)."""
