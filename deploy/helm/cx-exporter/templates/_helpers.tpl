{{/* Chart name, truncated to the 63 characters a label value may hold. */}}
{{- define "cx-exporter.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name: the release name, plus the chart name unless the
release name already contains it.
*/}}
{{- define "cx-exporter.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "cx-exporter.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "cx-exporter.labels" -}}
helm.sh/chart: {{ include "cx-exporter.chart" . }}
{{ include "cx-exporter.selectorLabels" . }}
app.kubernetes.io/version: {{ include "cx-exporter.imageTag" . | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: {{ include "cx-exporter.name" . }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The namespace of every object: namespaceOverride (for umbrella charts) or the release's. */}}
{{- define "cx-exporter.namespace" -}}
{{- default .Release.Namespace .Values.namespaceOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The label matchers of every rule (rules.thresholds.Selector): when empty,
the job and namespace Prometheus gives this release's series through the
chart's ServiceMonitor (job is the Service's app.kubernetes.io/name label).
*/}}
{{- define "cx-exporter.ruleSelector" -}}
{{- if .Values.rules.thresholds.Selector }}
{{- .Values.rules.thresholds.Selector }}
{{- else }}
{{- printf "job=%q, namespace=%q" (include "cx-exporter.name" .) (include "cx-exporter.namespace" .) }}
{{- end }}
{{- end }}

{{/* Seconds in a Prometheus duration such as 7d, 1h30m or 90s. */}}
{{- define "cx-exporter.seconds" -}}
{{- $units := dict "w" 604800 "d" 86400 "h" 3600 "m" 60 "s" 1 }}
{{- $total := 0 }}
{{- range regexFindAll "[0-9]+[wdhms]" (toString .) -1 }}
{{- $u := regexFind "[wdhms]$" . }}
{{- $total = add $total (mul (trimSuffix $u . | atoi) (get $units $u)) }}
{{- end }}
{{- $total }}
{{- end }}

{{/* Where the web config Secret is mounted. */}}
{{- define "cx-exporter.webConfigDir" -}}
/etc/cx-exporter/web
{{- end }}

{{/*
The probes' handler: HTTPS when the web config serves TLS; a TCP check when
it asks for basic auth or client certificates, which the kubelet cannot
give (exporter-toolkit guards every path, /-/healthy included).
*/}}
{{- define "cx-exporter.probeHandler" -}}
{{- $w := .root.Values.webConfig }}
{{- if and $w.enabled (or $w.basicAuth $w.clientCertificates) }}
tcpSocket:
  port: http-metrics
{{- else }}
httpGet:
  path: {{ .path }}
  port: http-metrics
  scheme: {{ ternary "HTTPS" "HTTP" (and $w.enabled $w.tls) }}
{{- end }}
{{- end }}

{{/* Labels that select the pod; they never change across upgrades. */}}
{{- define "cx-exporter.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cx-exporter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "cx-exporter.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "cx-exporter.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "cx-exporter.imageTag" -}}
{{- default .Chart.AppVersion .Values.image.tag }}
{{- end }}

{{- define "cx-exporter.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (include "cx-exporter.imageTag" .) }}
{{- end }}
{{- end }}

{{/* Where the state volume is mounted: CX_STATE_DIR, as in the image. */}}
{{- define "cx-exporter.stateDir" -}}
/var/lib/cx-exporter
{{- end }}

{{/* Where the credentials are mounted. */}}
{{- define "cx-exporter.secretsDir" -}}
/etc/cx-exporter/secrets
{{- end }}

{{/*
The vendors' settings: for each vendor (a top-level key of the values),
"settings" maps a value to its CX_* variable, and "secrets" maps a
credential value to its CX_* variable, which the chart passes as <NAME>_FILE.
Adding a vendor to the chart is one entry here, its values (values.yaml,
values.schema.json) and a line of deploy/README.md. survey is no vendor but
the token of POST /api/v1/survey-responses, a credential handled the same way.
*/}}
{{- define "cx-exporter.vendors" -}}
zendesk:
  settings:
    subdomain: CX_ZENDESK_SUBDOMAIN
    url: CX_ZENDESK_URL
    email: CX_ZENDESK_EMAIL
    pageSize: CX_ZENDESK_PAGE_SIZE
    exportRate: CX_ZENDESK_EXPORT_RATE
  secrets:
    apiToken: CX_ZENDESK_API_TOKEN
    oauthToken: CX_ZENDESK_OAUTH_TOKEN
    webhookSecret: CX_ZENDESK_WEBHOOK_SECRET
stripe:
  settings:
    url: CX_STRIPE_URL
    pageSize: CX_STRIPE_PAGE_SIZE
  secrets:
    apiKey: CX_STRIPE_API_KEY
    webhookSecret: CX_STRIPE_WEBHOOK_SECRET
chargebee:
  settings:
    site: CX_CHARGEBEE_SITE
    url: CX_CHARGEBEE_URL
  secrets:
    webhookSecret: CX_CHARGEBEE_WEBHOOK_SECRET
    apiKey: CX_CHARGEBEE_API_KEY
paddle:
  settings:
    url: CX_PADDLE_URL
    pageSize: CX_PADDLE_PAGE_SIZE
  secrets:
    webhookSecret: CX_PADDLE_WEBHOOK_SECRET
    apiKey: CX_PADDLE_API_KEY
freshdesk:
  settings:
    domain: CX_FRESHDESK_DOMAIN
    url: CX_FRESHDESK_URL
  secrets:
    webhookSecret: CX_FRESHDESK_WEBHOOK_SECRET
    apiKey: CX_FRESHDESK_API_KEY
helpscout:
  settings:
    appId: CX_HELPSCOUT_APP_ID
    url: CX_HELPSCOUT_URL
  secrets:
    webhookSecret: CX_HELPSCOUT_WEBHOOK_SECRET
    appSecret: CX_HELPSCOUT_APP_SECRET
intercom:
  settings:
    url: CX_INTERCOM_URL
  secrets:
    webhookSecret: CX_INTERCOM_WEBHOOK_SECRET
    token: CX_INTERCOM_TOKEN
edesk:
  settings:
    url: CX_EDESK_URL
  secrets:
    webhookSecret: CX_EDESK_WEBHOOK_SECRET
    apiToken: CX_EDESK_API_TOKEN
udesk:
  settings:
    subdomain: CX_UDESK_SUBDOMAIN
    url: CX_UDESK_URL
    email: CX_UDESK_EMAIL
    requestsPerMinute: CX_UDESK_REQUESTS_PER_MINUTE
  secrets:
    webhookSecret: CX_UDESK_WEBHOOK_SECRET
    apiToken: CX_UDESK_API_TOKEN
survey:
  secrets:
    token: CX_SURVEY_TOKEN
{{- end }}

{{/*
The credential files as a JSON list of {vendor, env, secret, key}: env is the
<NAME>_FILE variable, secret and key the Secret and the key holding it. A
vendor's existingSecret, when named, replaces its values in the chart's
Secret.
*/}}
{{- define "cx-exporter.secretFiles" -}}
{{- $files := list }}
{{- range $vendor, $v := include "cx-exporter.vendors" . | fromYaml }}
{{- $vals := index $.Values $vendor }}
{{- range $value, $env := $v.secrets }}
{{- if $vals.existingSecret.name }}
{{- with index $vals.existingSecret.keys $value }}
{{- $files = append $files (dict "vendor" $vendor "env" (printf "%s_FILE" $env) "secret" $vals.existingSecret.name "key" .) }}
{{- end }}
{{- else if index $vals $value }}
{{- $files = append $files (dict "vendor" $vendor "env" (printf "%s_FILE" $env) "secret" (include "cx-exporter.fullname" $) "key" (printf "%s-%s" $vendor (kebabcase $value))) }}
{{- end }}
{{- end }}
{{- end }}
{{- toJson $files }}
{{- end }}

{{/* The chart's Secret data: key => value; empty when it makes none. */}}
{{- define "cx-exporter.secretData" -}}
{{- $data := dict }}
{{- range $vendor, $v := include "cx-exporter.vendors" . | fromYaml }}
{{- $vals := index $.Values $vendor }}
{{- if not $vals.existingSecret.name }}
{{- range $value, $env := $v.secrets }}
{{- with index $vals $value }}
{{- $_ := set $data (printf "%s-%s" $vendor (kebabcase $value)) . }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- toJson $data }}
{{- end }}

{{/* The vendors with at least one credential file, as a JSON object vendor => true. */}}
{{- define "cx-exporter.credentialed" -}}
{{- $with := dict }}
{{- range (include "cx-exporter.secretFiles" . | fromJsonArray) }}{{ $_ := set $with .vendor true }}{{ end }}
{{- toJson $with }}
{{- end }}

{{/*
The configured sources, as a JSON list of vendor names; the exporter refuses
to start without one (or demo). A vendor enabled by its credential (Stripe,
Intercom, eDesk) counts once the credential is mounted.
*/}}
{{- define "cx-exporter.sources" -}}
{{- $creds := include "cx-exporter.credentialed" . | fromJson }}
{{- $v := .Values }}
{{- $sources := list }}
{{- if or $v.zendesk.subdomain $v.zendesk.url }}{{ $sources = append $sources "zendesk" }}{{ end }}
{{- if $creds.stripe }}{{ $sources = append $sources "stripe" }}{{ end }}
{{- if or $v.chargebee.site $v.chargebee.url }}{{ $sources = append $sources "chargebee" }}{{ end }}
{{- if $creds.paddle }}{{ $sources = append $sources "paddle" }}{{ end }}
{{- if or $v.freshdesk.domain $v.freshdesk.url }}{{ $sources = append $sources "freshdesk" }}{{ end }}
{{- if $v.helpscout.appId }}{{ $sources = append $sources "helpscout" }}{{ end }}
{{- if $creds.intercom }}{{ $sources = append $sources "intercom" }}{{ end }}
{{- if $creds.edesk }}{{ $sources = append $sources "edesk" }}{{ end }}
{{- if or $v.udesk.subdomain $v.udesk.url }}{{ $sources = append $sources "udesk" }}{{ end }}
{{- toJson $sources }}
{{- end }}

{{/* Whether any source is configured; the exporter refuses to start without one. */}}
{{- define "cx-exporter.hasSource" -}}
{{- if or .Values.demo (include "cx-exporter.sources" . | fromJsonArray) }}true{{ end }}
{{- end }}

{{/* Whether Chargebee is configured with no API key. */}}
{{- define "cx-exporter.chargebeeWithoutCredentials" -}}
{{- $creds := include "cx-exporter.credentialed" . | fromJson }}
{{- if and (or .Values.chargebee.site .Values.chargebee.url) (not $creds.chargebee) }}true{{ end }}
{{- end }}

{{/* Whether Zendesk is configured with no credentials. */}}
{{- define "cx-exporter.zendeskWithoutCredentials" -}}
{{- $creds := include "cx-exporter.credentialed" . | fromJson }}
{{- if and (or .Values.zendesk.subdomain .Values.zendesk.url) (not $creds.zendesk) }}true{{ end }}
{{- end }}

{{/* Whether Freshdesk is configured with no API key. */}}
{{- define "cx-exporter.freshdeskWithoutCredentials" -}}
{{- $creds := include "cx-exporter.credentialed" . | fromJson }}
{{- if and (or .Values.freshdesk.domain .Values.freshdesk.url) (not $creds.freshdesk) }}true{{ end }}
{{- end }}

{{/* Whether Help Scout is configured with no app secret. */}}
{{- define "cx-exporter.helpscoutWithoutCredentials" -}}
{{- $creds := include "cx-exporter.credentialed" . | fromJson }}
{{- if and .Values.helpscout.appId (not $creds.helpscout) }}true{{ end }}
{{- end }}

{{/*
The exporter's settings as a list of {name, value}: empty values are left
out, so that the exporter's defaults apply.
*/}}
{{- define "cx-exporter.env" -}}
{{- $c := .Values.config }}
{{- $env := list }}
{{- $env = append $env (dict "name" "CX_STATE_DIR" "value" (include "cx-exporter.stateDir" .)) }}
{{- if .Values.demo }}{{ $env = append $env (dict "name" "CX_DEMO" "value" "true") }}{{ end }}
{{- if .Values.webConfig.enabled }}
{{- $env = append $env (dict "name" "CX_WEB_CONFIG_FILE" "value" (printf "%s/%s" (include "cx-exporter.webConfigDir" .) .Values.webConfig.key)) }}
{{- end }}
{{- $settings := list
  (list "CX_POLL_INTERVAL" $c.pollInterval)
  (list "CX_SYNC_TIMEOUT" $c.syncTimeout)
  (list "CX_HTTP_TIMEOUT" $c.httpTimeout)
  (list "CX_HTTP_RETRIES" $c.httpRetries)
  (list "CX_LOG_LEVEL" $c.logLevel)
  (list "CX_LOG_FORMAT" $c.logFormat)
  (list "CX_BUSINESS_HOURS" $c.businessHours)
  (list "CX_TIMEZONE" $c.timezone)
  (list "CX_SLA_HOURS" $c.slaHours)
  (list "CX_SUPPORT_COST_MONTHLY" $c.supportCostMonthly)
  (list "CX_MAX_LABEL_VALUES" $c.maxLabelValues)
  (list "CX_AGENT_LABEL" $c.agentLabel)
  (list "CX_DEMO_HELPDESK" .Values.demoHelpdesk)
  (list "CX_DEMO_BILLING" .Values.demoBilling)
}}
{{- range $vendor, $v := include "cx-exporter.vendors" . | fromYaml }}
{{- range $value, $name := $v.settings }}
{{- $settings = append $settings (list $name (index $.Values $vendor $value)) }}
{{- end }}
{{- end }}
{{- range $settings }}
{{- $value := index . 1 }}
{{- if or (kindIs "float64" $value) (kindIs "int64" $value) (kindIs "int" $value) }}
{{- $env = append $env (dict "name" (index . 0) "value" ($value | int64 | toString)) }}
{{- else if $value }}
{{- $env = append $env (dict "name" (index . 0) "value" ($value | toString)) }}
{{- end }}
{{- end }}
{{- if $c.holidays }}{{ $env = append $env (dict "name" "CX_HOLIDAYS" "value" (join "," $c.holidays)) }}{{ end }}
{{- if $c.ticketLabels }}{{ $env = append $env (dict "name" "CX_TICKET_LABELS" "value" (join "," $c.ticketLabels)) }}{{ end }}
{{- if $c.firstReplyTargets }}
{{- $targets := list }}
{{- range $priority := keys $c.firstReplyTargets | sortAlpha }}
{{- $targets = append $targets (printf "%s=%s" $priority (index $c.firstReplyTargets $priority)) }}
{{- end }}
{{- $env = append $env (dict "name" "CX_FIRST_REPLY_TARGETS" "value" (join "," $targets)) }}
{{- end }}
{{- if $c.resolutionTargets }}
{{- $targets := list }}
{{- range $priority := keys $c.resolutionTargets | sortAlpha }}
{{- $targets = append $targets (printf "%s=%s" $priority (index $c.resolutionTargets $priority)) }}
{{- end }}
{{- $env = append $env (dict "name" "CX_RESOLUTION_TARGETS" "value" (join "," $targets)) }}
{{- end }}
{{- range include "cx-exporter.secretFiles" . | fromJsonArray }}
{{- $env = append $env (dict "name" .env "value" (printf "%s/%s/%s" (include "cx-exporter.secretsDir" $) .vendor .key)) }}
{{- end }}
{{- toYaml $env }}
{{- end }}
