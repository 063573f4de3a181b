"""The Pod Security Standards "restricted" profile (baseline included), checked on one pod spec.

Why here: no admission controller runs offline, so the rules of the profile (Kubernetes documentation, Pod
Security Standards, version 1.25 and later) are written out once and applied to every pod spec the chart
renders. Returns readable violations; an empty list means the pod would be admitted in a namespace labelled
pod-security.kubernetes.io/enforce=restricted.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

RESTRICTED_VOLUME_TYPES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}
SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}
SELINUX_TYPES = {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
APPARMOR_TYPES = {"RuntimeDefault", "Localhost"}


def _containers(spec: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for field in ("initContainers", "containers", "ephemeralContainers"):
        for container in spec.get(field) or []:
            yield f"{field}[{container.get('name')}]", container


def _baseline(spec: Mapping[str, Any]) -> list[str]:
    problems = []
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(field):
            problems.append(f"{field} is true")
    pod_ctx = spec.get("securityContext") or {}
    if (pod_ctx.get("windowsOptions") or {}).get("hostProcess"):
        problems.append("pod windowsOptions.hostProcess is true")
    for sysctl in pod_ctx.get("sysctls") or []:
        if sysctl.get("name") not in SAFE_SYSCTLS:
            problems.append(f"sysctl {sysctl.get('name')} is not in the safe set")
    for where, ctx in [("pod", pod_ctx), *((w, c.get("securityContext") or {}) for w, c in _containers(spec))]:
        selinux = ctx.get("seLinuxOptions") or {}
        if selinux.get("type", "") not in SELINUX_TYPES or selinux.get("user") or selinux.get("role"):
            problems.append(f"{where}: seLinuxOptions {selinux} not allowed")
        apparmor = ctx.get("appArmorProfile")
        if apparmor and apparmor.get("type") not in APPARMOR_TYPES:
            problems.append(f"{where}: appArmorProfile {apparmor} not allowed")
    for where, container in _containers(spec):
        ctx = container.get("securityContext") or {}
        if ctx.get("privileged"):
            problems.append(f"{where}: privileged")
        if (ctx.get("windowsOptions") or {}).get("hostProcess"):
            problems.append(f"{where}: windowsOptions.hostProcess is true")
        if ctx.get("procMount", "Default") != "Default":
            problems.append(f"{where}: procMount {ctx['procMount']}")
        for port in container.get("ports") or []:
            if port.get("hostPort"):
                problems.append(f"{where}: hostPort {port['hostPort']}")
    return problems


def _restricted(spec: Mapping[str, Any]) -> list[str]:
    problems = []
    pod_ctx = spec.get("securityContext") or {}
    for volume in spec.get("volumes") or []:
        kinds = set(volume) - {"name"}
        if not kinds <= RESTRICTED_VOLUME_TYPES:
            problems.append(f"volume {volume.get('name')}: type {sorted(kinds)} not allowed")
    pod_non_root = pod_ctx.get("runAsNonRoot") is True
    pod_seccomp = (pod_ctx.get("seccompProfile") or {}).get("type")
    if pod_ctx.get("runAsUser") == 0:
        problems.append("pod runAsUser is 0")
    for where, container in _containers(spec):
        ctx = container.get("securityContext") or {}
        if ctx.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{where}: allowPrivilegeEscalation is not false")
        non_root = ctx.get("runAsNonRoot", pod_non_root)
        if non_root is not True:
            problems.append(f"{where}: runAsNonRoot is not true (pod or container)")
        if ctx.get("runAsUser") == 0:
            problems.append(f"{where}: runAsUser is 0")
        seccomp = (ctx.get("seccompProfile") or {}).get("type") or pod_seccomp
        if seccomp not in ("RuntimeDefault", "Localhost"):
            problems.append(f"{where}: seccompProfile is {seccomp!r}, not RuntimeDefault or Localhost")
        caps = ctx.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            problems.append(f"{where}: capabilities do not drop ALL")
        added = set(caps.get("add") or []) - {"NET_BIND_SERVICE"}
        if added:
            problems.append(f"{where}: adds capabilities {sorted(added)}")
    return problems


def violations(pod_spec: Mapping[str, Any]) -> list[str]:
    """Every rule of the baseline and restricted profiles this pod spec breaks."""
    return _baseline(pod_spec) + _restricted(pod_spec)
