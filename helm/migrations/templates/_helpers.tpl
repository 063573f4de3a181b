{{/*
Shared helpers. Job names are "<release>-<store>-migrations" so that the troubleshooting line
`kubectl logs job/migrations-postgres-migrations` works for the default release name "migrations";
the release part is cut to 42 characters so the longest name stays within the 63 characters a
Job name may have (it becomes the job-name label of its pods).
*/}}

{{- define "migrations.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "migrations.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "migrations.labels" -}}
helm.sh/chart: {{ include "migrations.chart" . }}
{{ include "migrations.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: migrations
{{- end -}}

{{- define "migrations.jobName" -}}
{{- printf "%s-%s-migrations" (.root.Release.Name | trunc 42 | trimSuffix "-") .store -}}
{{- end -}}

{{- define "migrations.secretName" -}}
{{- if .Values.existingSecret -}}
{{- .Values.existingSecret -}}
{{- else -}}
{{- printf "%s-credentials" (.Release.Name | trunc 42 | trimSuffix "-") -}}
{{- end -}}
{{- end -}}

{{- define "migrations.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{/* A credential variable: always a secretKeyRef, never a value. */}}
{{- define "migrations.secretEnv" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ include "migrations.secretName" .root }}
      key: {{ .key }}
      {{- if .optional }}
      optional: true
      {{- end }}
{{- end -}}

{{/* Environment of every container of a store's Job (the harness CLI reads these variables). */}}
{{- define "migrations.env" -}}
{{- $root := .root -}}
- name: HOME
  value: /tmp
- name: TMPDIR
  value: /tmp
- name: PYTHONUNBUFFERED
  value: "1"
{{- if eq .store "postgres" }}
{{- $pg := $root.Values.postgresql.env }}
- name: PGHOST
  value: {{ $pg.host | quote }}
- name: PGPORT
  value: {{ $pg.port | toString | quote }}
- name: PGDATABASE
  value: {{ $pg.database | quote }}
- name: PGSSLMODE
  value: {{ $pg.sslmode | quote }}
{{ include "migrations.secretEnv" (dict "root" $root "name" "PGUSER" "key" "postgresql-username") }}
{{ include "migrations.secretEnv" (dict "root" $root "name" "PGPASSWORD" "key" "postgresql-password") }}
{{- else }}
{{- $c := $root.Values.cassandra }}
- name: CASSANDRA_HOSTS
  value: {{ $c.env.host | quote }}
- name: CASSANDRA_PORT
  value: {{ $c.env.port | toString | quote }}
- name: CASSANDRA_KEYSPACE
  value: {{ $c.env.keyspace | quote }}
- name: CASSANDRA_LOCAL_DC
  value: {{ $c.env.localDc | quote }}
- name: CASSANDRA_REPLICATION
  value: {{ $c.replication | quote }}
{{ include "migrations.secretEnv" (dict "root" $root "name" "CASSANDRA_USERNAME" "key" "cassandra-username" "optional" true) }}
{{ include "migrations.secretEnv" (dict "root" $root "name" "CASSANDRA_PASSWORD" "key" "cassandra-password" "optional" true) }}
{{- end }}
{{- end -}}

{{/* One container of a store's Job: `harness <store> <args...>`. */}}
{{- define "migrations.container" -}}
- name: {{ .name }}
  image: {{ include "migrations.image" .root | quote }}
  imagePullPolicy: {{ .root.Values.image.pullPolicy }}
  command: ["harness"]
  args:
    {{- range .args }}
    - {{ . | quote }}
    {{- end }}
  env:
    {{- include "migrations.env" . | nindent 4 }}
  resources:
    {{- toYaml .root.Values.resources | nindent 4 }}
  securityContext:
    allowPrivilegeEscalation: false
    privileged: false
    readOnlyRootFilesystem: true
    runAsNonRoot: true
    runAsUser: 10001
    runAsGroup: 10001
    capabilities:
      drop: ["ALL"]
    seccompProfile:
      type: RuntimeDefault
  volumeMounts:
    - name: tmp
      mountPath: /tmp
{{- end -}}

{{/* The Job of one store; called with (dict "root" $ "store" "postgres"|"cassandra"). */}}
{{- define "migrations.job" -}}
{{- $root := .root -}}
{{- $store := .store -}}
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ include "migrations.jobName" . }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "migrations.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ $store }}-migrations
  annotations:
    # A hook so the schema is migrated before the rest of a release rolls out, and so it runs again
    # on every upgrade. The credentials Secret is a hook too, with a lower weight, so it exists first.
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-weight: "0"
    # Keep the finished Job (and its logs) until the next deploy replaces it or its TTL runs out.
    helm.sh/hook-delete-policy: before-hook-creation
spec:
  backoffLimit: {{ $root.Values.job.backoffLimit }}
  activeDeadlineSeconds: {{ $root.Values.job.activeDeadlineSeconds }}
  ttlSecondsAfterFinished: {{ $root.Values.job.ttlSecondsAfterFinished }}
  template:
    metadata:
      labels:
        {{- include "migrations.selectorLabels" $root | nindent 8 }}
        app.kubernetes.io/component: {{ $store }}-migrations
      {{- with $root.Values.podAnnotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    spec:
      restartPolicy: Never
      automountServiceAccountToken: false
      enableServiceLinks: false
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- range . }}
        - name: {{ . | quote }}
        {{- end }}
      {{- end }}
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        runAsGroup: 10001
        fsGroup: 10001
        seccompProfile:
          type: RuntimeDefault
      initContainers:
        {{- include "migrations.container" (dict "root" $root "store" $store "name" "wait" "args" (list $store "wait")) | nindent 8 }}
        {{- if $root.Values.reset }}
        {{- include "migrations.container" (dict "root" $root "store" $store "name" "reset" "args" (list $store "reset" "--yes")) | nindent 8 }}
        {{- end }}
      containers:
        {{- include "migrations.container" (dict "root" $root "store" $store "name" "migrate" "args" (list $store "up")) | nindent 8 }}
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: {{ $root.Values.tmpSizeLimit }}
      {{- with $root.Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $root.Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $root.Values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end -}}
