{{/*
Shared helpers. Job names are "<release>-<store>-migrations" so that the troubleshooting line
`kubectl logs job/migrations-postgres-migrations` works for the default release name "migrations";
the release part is cut to 42 characters so the longest name stays within the 63 characters a
Job name may have (it becomes the job-name label of its pods).
*/}}

{{- define "migrations.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "migrations.prefix" -}}
{{- .Release.Name | trunc 42 | trimSuffix "-" -}}
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
{{- printf "%s-%s-migrations" (include "migrations.prefix" .root) .store -}}
{{- end -}}

{{- define "migrations.secretName" -}}
{{- if .Values.existingSecret -}}
{{- .Values.existingSecret -}}
{{- else -}}
{{- printf "%s-credentials" (include "migrations.prefix" .) -}}
{{- end -}}
{{- end -}}

{{- define "migrations.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (printf "%s-migrations" (include "migrations.prefix" .)) -}}
{{- else -}}
{{- .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* repository@digest when a digest is pinned, else repository:tag (the appVersion when tag is empty). */}}
{{- define "migrations.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{/* What a store's reset empties: the PostgreSQL database or the Cassandra keyspace. */}}
{{- define "migrations.resetTarget" -}}
{{- if eq .store "postgres" -}}
{{- .root.Values.postgresql.env.database -}}
{{- else -}}
{{- .root.Values.cassandra.env.keyspace -}}
{{- end -}}
{{- end -}}

{{/*
The reset guard, checked while rendering (nothing reaches the cluster when it fails): reset.confirm.<store>
must name the target and reset.token must be set. Returns the reset container's arguments.
*/}}
{{- define "migrations.resetArgs" -}}
{{- $r := .root.Values.reset -}}
{{- $key := ternary "postgresql" "cassandra" (eq .store "postgres") -}}
{{- $what := ternary "postgresql.env.database" "cassandra.env.keyspace" (eq .store "postgres") -}}
{{- $target := include "migrations.resetTarget" . -}}
{{- $confirm := index $r.confirm $key -}}
{{- if ne $confirm $target -}}
{{- fail (printf "reset.enabled is true but reset.confirm.%s is %q: it must equal %s (%q), the target the reset empties; nothing was rendered" $key $confirm $what $target) -}}
{{- end -}}
{{- if not $r.token -}}
{{- fail "reset.enabled is true but reset.token is empty: give every reset a fresh token (./deploy.sh --reset does) so that a retried Job or a repeated upgrade never resets twice; nothing was rendered" -}}
{{- end -}}
{{- toJson (list .store "reset" (printf "--yes=%s" $target) (printf "--once=%s" $r.token)) -}}
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

{{/* Connection environment of one store (the harness CLI reads these variables). */}}
{{- define "migrations.storeEnv" -}}
{{- $root := .root -}}
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

{{/* One container running `harness <args...>` with the environment of the given stores. */}}
{{- define "migrations.container" -}}
{{- $root := .root -}}
- name: {{ .name }}
  image: {{ include "migrations.image" $root | quote }}
  imagePullPolicy: {{ $root.Values.image.pullPolicy }}
  command: ["harness"]
  args:
    {{- range .args }}
    - {{ . | quote }}
    {{- end }}
  env:
    - name: HOME
      value: /tmp
    - name: TMPDIR
      value: /tmp
    - name: PYTHONUNBUFFERED
      value: "1"
    {{- range .stores }}
    {{- include "migrations.storeEnv" (dict "root" $root "store" .) | trim | nindent 4 }}
    {{- end }}
    {{- with $root.Values.extraEnv }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with $root.Values.envFrom }}
  envFrom:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  resources:
    {{- toYaml $root.Values.resources | nindent 4 }}
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
    {{- with $root.Values.extraVolumeMounts }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end -}}

{{/*
The pod spec shared by the Jobs and the test pod; called with (dict "root" $ "component" NAME
"initContainers" YAML "containers" YAML). Pod labels: podLabels, with the chart's own labels winning.
*/}}
{{- define "migrations.podTemplate" -}}
{{- $root := .root -}}
{{- $own := fromYaml (include "migrations.selectorLabels" $root) -}}
{{- $_ := set $own "app.kubernetes.io/component" .component -}}
metadata:
  labels:
    {{- toYaml (merge $own (deepCopy $root.Values.podLabels)) | nindent 4 }}
  {{- with $root.Values.podAnnotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  restartPolicy: Never
  automountServiceAccountToken: {{ $root.Values.serviceAccount.automount }}
  {{- with (include "migrations.serviceAccountName" $root) }}
  serviceAccountName: {{ . }}
  {{- end }}
  enableServiceLinks: false
  {{- with $root.Values.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
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
  {{- with .initContainers }}
  initContainers:
    {{- . | nindent 4 }}
  {{- end }}
  containers:
    {{- .containers | nindent 4 }}
  volumes:
    - name: tmp
      emptyDir:
        sizeLimit: {{ $root.Values.tmpSizeLimit }}
    {{- with $root.Values.extraVolumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with $root.Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $root.Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $root.Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}

{{/* The Job of one store; called with (dict "root" $ "store" "postgres"|"cassandra"). */}}
{{- define "migrations.job" -}}
{{- $root := .root -}}
{{- $store := .store -}}
{{- $stores := list $store -}}
{{- $init := include "migrations.container" (dict "root" $root "stores" $stores "name" "wait" "args" (list $store "wait")) -}}
{{- if $root.Values.reset.enabled -}}
{{- $resetArgs := fromJsonArray (include "migrations.resetArgs" .) -}}
{{- $init = printf "%s\n%s" $init (include "migrations.container" (dict "root" $root "stores" $stores "name" "reset" "args" $resetArgs)) -}}
{{- end -}}
{{- $main := include "migrations.container" (dict "root" $root "stores" $stores "name" "migrate" "args" (list $store "up")) -}}
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
    {{- include "migrations.podTemplate" (dict "root" $root "component" (printf "%s-migrations" $store) "initContainers" $init "containers" $main) | nindent 4 }}
{{- end -}}

{{/* Stores whose Job is rendered, in the order the drift test checks them. */}}
{{- define "migrations.enabledStores" -}}
{{- $stores := list -}}
{{- if .Values.postgresql.enabled }}{{ $stores = append $stores "postgres" }}{{ end -}}
{{- if .Values.cassandra.enabled }}{{ $stores = append $stores "cassandra" }}{{ end -}}
{{- toJson $stores -}}
{{- end -}}
