{{/*
Names, labels and per-component lookups shared by every template, so a component's pod spec is
assembled from values the same way everywhere.
*/}}

{{- define "faultline.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "faultline.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* "<fullname>-<component>", e.g. faultline-chaosd. Call with (list $ "chaosd"). */}}
{{- define "faultline.componentName" -}}
{{- $root := index . 0 -}}
{{- printf "%s-%s" (include "faultline.fullname" $root | trunc 52 | trimSuffix "-") (index . 1) -}}
{{- end -}}

{{- define "faultline.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "faultline.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: faultline
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Labels of one component's objects. Call with (list $ "operator"). */}}
{{- define "faultline.componentLabels" -}}
{{ include "faultline.labels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{/* Immutable selector labels of one component. Call with (list $ "operator"). */}}
{{- define "faultline.selectorLabels" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ include "faultline.name" $root }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{/* "repository:tag" for a component; falls back to image.* and the chart appVersion. */}}
{{- define "faultline.image" -}}
{{- $root := index . 0 -}}
{{- $own := (index $root.Values (index . 1)).image | default dict -}}
{{- $repo := $own.repository | default $root.Values.image.repository -}}
{{- $tag := $own.tag | default $root.Values.image.tag | default $root.Chart.AppVersion -}}
{{- printf "%s:%s" $repo (toString $tag) -}}
{{- end -}}

{{- define "faultline.imagePullPolicy" -}}
{{- $root := index . 0 -}}
{{- $own := (index $root.Values (index . 1)).image | default dict -}}
{{- $own.pullPolicy | default $root.Values.image.pullPolicy -}}
{{- end -}}

{{/* The ServiceAccount name a component runs as. Call with (list $ "operator"). */}}
{{- define "faultline.serviceAccountName" -}}
{{- $root := index . 0 -}}
{{- $sa := (index $root.Values (index . 1)).serviceAccount -}}
{{- if $sa.create -}}
{{- default (include "faultline.componentName" .) $sa.name -}}
{{- else -}}
{{- default "default" $sa.name -}}
{{- end -}}
{{- end -}}

{{/* The Secret holding the operator <-> chaosd bearer token. */}}
{{- define "faultline.tokenSecretName" -}}
{{- default (include "faultline.componentName" (list . "chaosd-token")) .Values.auth.token.existingSecret -}}
{{- end -}}

{{/* Where mTLS material comes from: auth.mtls.source, with "auto" decided by whether the cluster
serves cert-manager's API at install/upgrade time. */}}
{{- define "faultline.mtlsSource" -}}
{{- $source := .Values.auth.mtls.source -}}
{{- if eq $source "auto" -}}
{{- if .Capabilities.APIVersions.Has "cert-manager.io/v1" -}}certManager{{- else -}}generated{{- end -}}
{{- else -}}
{{- $source -}}
{{- end -}}
{{- end -}}

{{/* kubernetes.io/tls Secrets for mTLS: chaosd's serving pair and the operator's client pair. */}}
{{- define "faultline.tlsServerSecretName" -}}
{{- if eq .Values.auth.mtls.source "existingSecrets" -}}
{{- .Values.auth.mtls.existingSecrets.server -}}
{{- else -}}
{{- include "faultline.componentName" (list . "chaosd-tls") -}}
{{- end -}}
{{- end -}}

{{- define "faultline.tlsClientSecretName" -}}
{{- if eq .Values.auth.mtls.source "existingSecrets" -}}
{{- .Values.auth.mtls.existingSecrets.client -}}
{{- else -}}
{{- include "faultline.componentName" (list . "operator-tls") -}}
{{- end -}}
{{- end -}}

{{/* Rejects value combinations the JSON schema cannot express, naming the field. */}}
{{- define "faultline.validate" -}}
{{- if and (eq .Values.auth.mode "mtls") (eq .Values.auth.mtls.source "existingSecrets") -}}
{{- if not .Values.auth.mtls.existingSecrets.server -}}
{{- fail "auth.mtls.existingSecrets.server: required when auth.mtls.source is existingSecrets" -}}
{{- end -}}
{{- if not .Values.auth.mtls.existingSecrets.client -}}
{{- fail "auth.mtls.existingSecrets.client: required when auth.mtls.source is existingSecrets" -}}
{{- end -}}
{{- end -}}
{{- if and (gt (int .Values.dashboard.replicas) 1) (not .Values.dashboard.database.existingSecret) -}}
{{- fail "dashboard.replicas: more than 1 replica needs dashboard.database.existingSecret (SQLite is single-writer)" -}}
{{- end -}}
{{- if and .Values.operator.leaderElection.enabled (le (int .Values.operator.leaderElection.leaseDurationSeconds) (int .Values.operator.leaderElection.renewDeadlineSeconds)) -}}
{{- fail "operator.leaderElection.leaseDurationSeconds: must be greater than renewDeadlineSeconds" -}}
{{- end -}}
{{- if and (not .Values.operator.leaderElection.enabled) (gt (int .Values.operator.replicas) 1) -}}
{{- fail "operator.replicas: more than 1 replica needs operator.leaderElection.enabled (two acting operators would fight)" -}}
{{- end -}}
{{- end -}}

{{/* How the operator (and the uninstall hook, which runs as it) finds and reaches chaosd. */}}
{{- define "faultline.operatorChaosdEnv" -}}
# Where chaosd runs: the operator lists these pods to find each node's daemon.
{{- with .Values.operator.watchNamespaces }}
- name: FAULTLINE_WATCH_NAMESPACES
  value: {{ join "," . | quote }}
{{- end }}
- name: FAULTLINE_CHAOSD_NAMESPACE
  value: {{ .Release.Namespace | quote }}
- name: FAULTLINE_CHAOSD_SELECTOR
  value: {{ printf "app.kubernetes.io/name=%s,app.kubernetes.io/instance=%s,app.kubernetes.io/component=chaosd" (include "faultline.name" .) .Release.Name | quote }}
- name: FAULTLINE_CHAOSD_PORT
  value: {{ .Values.chaosd.port | quote }}
{{- if eq .Values.auth.mode "token" }}
- name: FAULTLINE_CHAOSD_TOKEN_FILE
  value: /etc/faultline/chaosd-token/{{ .Values.auth.token.secretKey }}
{{- else }}
- name: FAULTLINE_CHAOSD_SCHEME
  value: https
- name: FAULTLINE_CHAOSD_TLS_CA_FILE
  value: /etc/faultline/chaosd-tls/ca.crt
- name: FAULTLINE_CHAOSD_TLS_CERT_FILE
  value: /etc/faultline/chaosd-tls/tls.crt
- name: FAULTLINE_CHAOSD_TLS_KEY_FILE
  value: /etc/faultline/chaosd-tls/tls.key
- name: FAULTLINE_CHAOSD_TLS_SERVER_NAME
  value: {{ include "faultline.componentName" (list . "chaosd") | quote }}
{{- end }}
{{- end -}}

{{/* Target limits (docs/security.md) for the operator and the webhook: the release namespace is
always protected. */}}
{{- define "faultline.targetingEnv" -}}
{{- $t := .Values.targeting -}}
- name: FAULTLINE_PROTECTED_NAMESPACES
  value: {{ join "," (append $t.protectedNamespaces .Release.Namespace) | quote }}
- name: FAULTLINE_ALLOW_PROTECTED_NAMESPACES
  value: {{ join "," $t.allowProtected | quote }}
- name: FAULTLINE_TARGET_NAMESPACES
  value: {{ join "," $t.allowedNamespaces | quote }}
{{- end }}
