#!/bin/sh
# deploy_files.sh — validate hearth's deployment files (run by `make test`).
#
# What it checks, and with what:
# 1. deploy/config/{controller,scheduler,agent}.conf: each passes the
#    matching daemon's `-t` check (binaries from $HEARTH_BUILD; an unknown
#    setting or a bad value fails), still passes with every commented
#    "# name = value" example line switched on, names every setting the
#    daemon's --help lists (and none it does not), and sets no secret.
# 2. deploy/systemd/*: `systemd-analyze verify` on copies whose ExecStart
#    paths point into $HEARTH_BUILD (verify insists that the binary exists);
#    any complaint about a hearth unit fails (verify itself exits 0 on bad
#    directives). Without systemd-analyze, a structural check instead.
#    Either way: every unit names an existing config and binary and has
#    Restart=on-failure.
# 3. deploy/k8s/*.yaml: `kubectl apply --dry-run=client --validate=false`
#    against a stub API server started here (kubectl needs a server for
#    discovery even in client dry-run; the stub serves the discovery
#    documents of the built-in kinds and answers 404 to every object, so
#    nothing exists and everything is "created (dry run)"). That proves the
#    YAML parses and every object has a known apiVersion/kind and a name.
#    kubectl's JSON output of the objects then goes through a schema check
#    of the fields of the kinds hearth uses (a misspelt field fails), and
#    hearth's rules: probes on /healthz and resource requests on every
#    daemon, label selectors that match, Secrets, ConfigMaps, keys and port
#    names that exist, $(VAR) references defined before use, HEARTH_*
#    variables the daemon knows, the agent privileged on the host network
#    with the host's cgroup fs and runc state, two schedulers, and every
#    ConfigMap's *.conf passing its daemon's -t and holding no secret.
#    Without kubectl (Debian: apt-get install kubernetes-client) or python3
#    this part is skipped, loudly.
# 4. Self-test: broken copies (for example bad YAML, an unknown kind, a
#    misspelt field, no probe, an unknown or missing setting, a bad unit
#    directive, an unknown HEARTH_ variable) must each fail the checks
#    above, with the message that names the breakage.
#
# Environment: HEARTH_BUILD (binaries; default ./build), HEARTH_SRC (repo;
# default .), HEARTH_KUBECTL (kubectl binary; default kubectl in PATH),
# HEARTH_SYSTEMD_ANALYZE (default systemd-analyze; a missing one makes the
# unit check structural).
set -u
# One collation for sort and comm.
export LC_ALL=C

SRC=$(cd "${HEARTH_SRC:-.}" && pwd)
BUILD=$(cd "${HEARTH_BUILD:-$SRC/build}" && pwd)
KUBECTL=${HEARTH_KUBECTL:-kubectl}
ANALYZE=${HEARTH_SYSTEMD_ANALYZE:-systemd-analyze}
# The system's python3 (stdlib only) starts faster than a version-manager shim.
PYTHON=python3
[ -x /usr/bin/python3 ] && PYTHON=/usr/bin/python3
TMP=$(mktemp -d "${TMPDIR:-/tmp}/hearth-deploy.XXXXXX")
STUB_PID=""
cleanup() {
	if [ -n "$STUB_PID" ]; then
		kill "$STUB_PID" 2>/dev/null
		wait "$STUB_PID" 2>/dev/null
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' HUP INT PIPE TERM

failures=0
say() { printf '%s\n' "$*"; }
fail() {
	printf 'FAIL: %s\n' "$*"
	failures=$((failures + 1))
}

for d in controller scheduler agent; do
	[ -x "$BUILD/hearth-$d" ] || {
		say "deploy_files: $BUILD/hearth-$d is missing; build first (make)"
		exit 1
	}
done

# ---- 1. example configs ---------------------------------------------------------

# Setting names of a daemon, one a line, from its --help ("file: NAME").
settings_of() {
	"$BUILD/hearth-$1" --help | sed -n 's/^ *file: \([a-z0-9-]*\) .*/\1/p'
	# Every daemon also takes these (common options, also valid in a file).
	printf 'log-level\nlog-format\n'
}

# check_config DAEMON FILE: returns nonzero on any problem (printed).
check_config() {
	d=$1
	f=$2
	cc_rc=0
	if ! out=$(env -i PATH="$PATH" "$BUILD/hearth-$d" -t -c "$f" 2>&1 >/dev/null); then
		say "  $f: hearth-$d -t rejects it: $out"
		cc_rc=1
	fi
	# The commented examples must be valid too: switch them all on.
	sed 's/^# \([a-z][a-z0-9-]* = \)/\1/' "$f" >"$TMP/uncommented.conf"
	if ! out=$(env -i PATH="$PATH" "$BUILD/hearth-$d" -t -c "$TMP/uncommented.conf" 2>&1 >/dev/null); then
		say "  $f: with its commented examples switched on, hearth-$d -t rejects it: $out"
		cc_rc=1
	fi
	settings_of "$d" | sort -u >"$TMP/want"
	sed -n 's/^#\{0,1\} *\([a-z][a-z0-9-]*\) *=.*/\1/p' "$f" | sort -u >"$TMP/have"
	missing=$(comm -23 "$TMP/want" "$TMP/have" | tr '\n' ' ')
	extra=$(comm -13 "$TMP/want" "$TMP/have" | tr '\n' ' ')
	if [ -n "$missing" ]; then
		say "  $f: settings of hearth-$d --help not in the file: $missing"
		cc_rc=1
	fi
	if [ -n "$extra" ]; then
		say "  $f: settings hearth-$d does not have: $extra"
		cc_rc=1
	fi
	# Secrets go in hearth.env (mode 0600), not in a shared config file.
	if grep -Eq '^(token|redis) *=' "$f"; then
		say "  $f: sets a secret (token or redis); leave those to the environment"
		cc_rc=1
	fi
	return $cc_rc
}

check_configs() { # DIR
	cs_rc=0
	for cs_d in controller scheduler agent; do
		if [ ! -f "$1/$cs_d.conf" ]; then
			say "  $1/$cs_d.conf is missing"
			cs_rc=1
			continue
		fi
		check_config "$cs_d" "$1/$cs_d.conf" || cs_rc=1
	done
	return $cs_rc
}

# ---- 2. systemd units -------------------------------------------------------------

# Directives a structural check accepts when systemd-analyze is missing.
KNOWN_KEYS="Description Documentation After Before Wants Requires PartOf BindsTo
StartLimitIntervalSec StartLimitBurst Type Environment EnvironmentFile ExecStart
ExecStartPre ExecReload Restart RestartSec RestartPreventExitStatus KillMode
TimeoutStopSec LimitNOFILE OOMScoreAdjust RuntimeDirectory RuntimeDirectoryMode
RuntimeDirectoryPreserve DynamicUser User Group NoNewPrivileges ProtectSystem
ReadWritePaths ProtectHome PrivateTmp PrivateDevices CapabilityBoundingSet
AmbientCapabilities ProtectKernelTunables ProtectKernelModules ProtectKernelLogs
ProtectControlGroups ProtectClock ProtectHostname ProtectProc ProcSubset
RestrictAddressFamilies RestrictNamespaces RestrictRealtime LockPersonality
MemoryDenyWriteExecute SystemCallArchitectures SystemCallFilter
SystemCallErrorNumber UMask WantedBy RequiredBy"

structural_unit() { # FILE
	awk -v known="$KNOWN_KEYS" '
	BEGIN {
		n = split(known, k, /[ \n]+/); for (i = 1; i <= n; i++) ok[k[i]] = 1
		# Values of the enumerated directives hearth uses.
		b = "yes|no|true|false|on|off|1|0"
		enum["Type"] = "simple|exec|forking|oneshot|dbus|notify|idle"
		enum["Restart"] = "no|on-success|on-failure|on-abnormal|on-watchdog|on-abort|always"
		enum["KillMode"] = "control-group|mixed|process|none"
		enum["ProtectSystem"] = b "|full|strict"
		enum["ProtectHome"] = b "|read-only|tmpfs"
		enum["ProtectProc"] = "noaccess|invisible|ptraceable|default"
		enum["ProcSubset"] = "all|pid"
		split("NoNewPrivileges PrivateTmp PrivateDevices DynamicUser ProtectKernelTunables " \
		      "ProtectKernelModules ProtectKernelLogs ProtectControlGroups ProtectClock " \
		      "ProtectHostname RestrictRealtime LockPersonality MemoryDenyWriteExecute " \
		      "RuntimeDirectoryPreserve", bools, " ")
		for (i in bools) enum[bools[i]] = b
	}
	/^[ \t]*(#|;|$)/ { next }
	/^\[(Unit|Service|Install)\]$/ { sec[$0] = 1; next }
	/^\[/ { printf "  %s:%d: unknown section %s\n", FILENAME, NR, $0; bad = 1; next }
	{
		key = $0; sub(/=.*/, "", key)
		val = $0; sub(/^[^=]*=/, "", val)
		if (index($0, "=") == 0 || !(key in ok)) {
			printf "  %s:%d: unknown directive: %s\n", FILENAME, NR, $0; bad = 1
		} else if ((key in enum) && val !~ ("^(" enum[key] ")$")) {
			printf "  %s:%d: bad value for %s: %s\n", FILENAME, NR, key, val; bad = 1
		}
	}
	END {
		if (!("[Unit]" in sec) || !("[Install]" in sec)) {
			printf "  %s: needs [Unit] and [Install]\n", FILENAME; bad = 1
		}
		exit bad
	}' "$1"
}

check_units() { # DIR
	rc=0
	dir=$1
	mkdir -p "$TMP/units"
	rm -f "$TMP/units"/*
	n=0
	for f in "$dir"/*.service "$dir"/*.target; do
		[ -f "$f" ] || continue
		n=$((n + 1))
		b=$(basename "$f")
		# verify wants ExecStart binaries to exist: point them at the build.
		sed "s#/usr/local/bin/#$BUILD/#g" "$f" >"$TMP/units/$b"
		case $b in
		*.service)
			grep -q '^Restart=on-failure$' "$f" || {
				say "  $f: no Restart=on-failure"
				rc=1
			}
			grep -q '^PartOf=hearth.target$' "$f" || {
				say "  $f: not PartOf=hearth.target"
				rc=1
			}
			exe=$(sed -n 's#^ExecStart=/usr/local/bin/\([a-z-]*\) .*#\1#p' "$f")
			conf=$(sed -n 's#^ExecStart=.* -c /etc/hearth/\([a-z]*\.conf\).*#\1#p' "$f")
			if [ -z "$exe" ] || [ ! -x "$BUILD/$exe" ]; then
				say "  $f: ExecStart is not a hearth binary in /usr/local/bin"
				rc=1
			fi
			if [ -z "$conf" ] || [ ! -f "$SRC/deploy/config/$conf" ]; then
				say "  $f: ExecStart reads no config that deploy/config/ provides"
				rc=1
			fi
			;;
		esac
	done
	if [ "$n" -eq 0 ]; then
		say "  $dir: no units"
		return 1
	fi
	if command -v "$ANALYZE" >/dev/null 2>&1; then
		out=$(cd "$TMP/units" && "$ANALYZE" verify "$TMP"/units/* 2>&1)
		st=$?
		ours=$(printf '%s\n' "$out" | grep -i hearth)
		if [ $st -ne 0 ] || [ -n "$ours" ]; then
			say "  systemd-analyze verify (exit $st):"
			printf '%s\n' "$out" | sed 's/^/    /'
			rc=1
		elif [ -n "$out" ]; then
			say "  systemd-analyze verify said, about other units (ignored):"
			printf '%s\n' "$out" | sed 's/^/    /'
		fi
	else
		for f in "$TMP"/units/*; do
			structural_unit "$f" || rc=1
		done
	fi
	return $rc
}

# ---- 3. Kubernetes manifests ------------------------------------------------------

cat >"$TMP/stub.py" <<'PY'
# A stub Kubernetes API server: discovery documents of built-in kinds, and
# 404 for every object, so `kubectl apply --dry-run=client` works offline.
import http.server, json, re, sys
V = ["create", "delete", "get", "list", "patch", "update", "watch"]
CORE = [("namespaces", "Namespace", False), ("configmaps", "ConfigMap", True),
        ("secrets", "Secret", True), ("services", "Service", True),
        ("persistentvolumeclaims", "PersistentVolumeClaim", True),
        ("persistentvolumes", "PersistentVolume", False),
        ("serviceaccounts", "ServiceAccount", True), ("pods", "Pod", True),
        ("endpoints", "Endpoints", True), ("resourcequotas", "ResourceQuota", True),
        ("limitranges", "LimitRange", True)]
GROUPS = {
    "apps/v1": [("deployments", "Deployment", True), ("statefulsets", "StatefulSet", True),
                ("daemonsets", "DaemonSet", True), ("replicasets", "ReplicaSet", True)],
    "policy/v1": [("poddisruptionbudgets", "PodDisruptionBudget", True)],
    "networking.k8s.io/v1": [("networkpolicies", "NetworkPolicy", True),
                             ("ingresses", "Ingress", True)],
    "rbac.authorization.k8s.io/v1": [("roles", "Role", True), ("rolebindings", "RoleBinding", True),
                                     ("clusterroles", "ClusterRole", False),
                                     ("clusterrolebindings", "ClusterRoleBinding", False)],
    "scheduling.k8s.io/v1": [("priorityclasses", "PriorityClass", False)],
}
def rlist(gv, res):
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
            "resources": [{"name": n, "singularName": k.lower(), "namespaced": ns,
                           "kind": k, "verbs": V} for n, k, ns in res]}
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass
    def send(self, code, obj):
        b = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def do_GET(self):
        p = self.path.split("?")[0]
        if p == "/api":
            return self.send(200, {"kind": "APIVersions", "versions": ["v1"],
                                   "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                                                   "serverAddress": "127.0.0.1"}]})
        if p == "/api/v1":
            return self.send(200, rlist("v1", CORE))
        if p == "/apis":
            gl = []
            for gv in GROUPS:
                g, v = gv.split("/")
                gl.append({"name": g, "versions": [{"groupVersion": gv, "version": v}],
                           "preferredVersion": {"groupVersion": gv, "version": v}})
            return self.send(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": gl})
        m = re.match(r"^/apis/([^/]+/[^/]+)$", p)
        if m and m.group(1) in GROUPS:
            return self.send(200, rlist(m.group(1), GROUPS[m.group(1)]))
        if p == "/version":
            return self.send(200, {"major": "1", "minor": "20", "gitVersion": "v1.20.0-stub"})
        self.send(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                        "message": "not found", "reason": "NotFound", "code": 404})
s = http.server.HTTPServer(("127.0.0.1", 0), H)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(s.server_address[1]))
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s.serve_forever()
PY

cat >"$TMP/check_k8s.py" <<'PY'
# Schema and hearth rules over kubectl's JSON output (a v1 List).
# argv: objects.json, build dir, tmp dir. Prints problems; exit 1 if any.
import json, os, re, subprocess, sys

objs = json.load(open(sys.argv[1]))
items = objs["items"] if objs.get("kind") == "List" else [objs]
BUILD, TMP = sys.argv[2], sys.argv[3]
problems = []
def bad(where, msg):
    problems.append("%s: %s" % (where, msg))

# ---- schema: the fields of the kinds hearth uses ---------------------------
S, I, B, M, Q, IS, ANY = "str", "int", "bool", "map", "quantity", "int-or-str", "any"
def L(t): return ("list", t)
T = {
 "ObjectMeta": {"name": S, "namespace": S, "labels": M, "annotations": M, "generateName": S},
 "LabelSelector": {"matchLabels": M, "matchExpressions": ANY},
 "Namespace": {"spec": ANY},
 "Secret": {"type": S, "stringData": M, "data": M, "immutable": B},
 "ConfigMap": {"data": M, "binaryData": M, "immutable": B},
 "Service": {"spec": "ServiceSpec"},
 "ServiceSpec": {"type": S, "selector": M, "ports": L("ServicePort"), "clusterIP": S,
                 "clusterIPs": L(S), "sessionAffinity": S, "externalTrafficPolicy": S,
                 "internalTrafficPolicy": S, "loadBalancerIP": S, "publishNotReadyAddresses": B,
                 "ipFamilyPolicy": S, "ipFamilies": L(S), "loadBalancerSourceRanges": L(S)},
 "ServicePort": {"name": S, "port": I, "targetPort": IS, "protocol": S, "nodePort": I,
                 "appProtocol": S},
 "Deployment": {"spec": "DeploymentSpec"},
 "DeploymentSpec": {"replicas": I, "selector": "LabelSelector", "template": "PodTemplate",
                    "strategy": "Strategy", "minReadySeconds": I, "revisionHistoryLimit": I,
                    "progressDeadlineSeconds": I, "paused": B},
 "Strategy": {"type": S, "rollingUpdate": "RollingUpdate"},
 "RollingUpdate": {"maxUnavailable": IS, "maxSurge": IS, "partition": I},
 "StatefulSet": {"spec": "StatefulSetSpec"},
 "StatefulSetSpec": {"serviceName": S, "replicas": I, "selector": "LabelSelector",
                     "template": "PodTemplate", "volumeClaimTemplates": L("PVC"),
                     "updateStrategy": "Strategy", "podManagementPolicy": S,
                     "revisionHistoryLimit": I, "minReadySeconds": I,
                     "persistentVolumeClaimRetentionPolicy": ANY},
 "DaemonSet": {"spec": "DaemonSetSpec"},
 "DaemonSetSpec": {"selector": "LabelSelector", "template": "PodTemplate",
                   "updateStrategy": "Strategy", "minReadySeconds": I, "revisionHistoryLimit": I},
 "PodDisruptionBudget": {"spec": "PDBSpec"},
 "PDBSpec": {"minAvailable": IS, "maxUnavailable": IS, "selector": "LabelSelector",
             "unhealthyPodEvictionPolicy": S},
 "PVC": {"metadata": "ObjectMeta", "spec": "PVCSpec"},
 "PVCSpec": {"accessModes": L(S), "resources": "Resources", "storageClassName": S,
             "volumeMode": S, "selector": "LabelSelector"},
 "PodTemplate": {"metadata": "ObjectMeta", "spec": "PodSpec"},
 "PodSpec": {"containers": L("Container"), "initContainers": L("Container"),
             "volumes": L("Volume"), "nodeSelector": M, "affinity": ANY, "tolerations": ANY,
             "hostNetwork": B, "hostPID": B, "hostIPC": B, "dnsPolicy": S, "dnsConfig": ANY,
             "securityContext": "PodSecurityContext", "terminationGracePeriodSeconds": I,
             "serviceAccountName": S, "automountServiceAccountToken": B,
             "priorityClassName": S, "restartPolicy": S, "topologySpreadConstraints": ANY,
             "imagePullSecrets": ANY, "enableServiceLinks": B, "shareProcessNamespace": B,
             "hostname": S, "subdomain": S, "schedulerName": S, "runtimeClassName": S,
             "hostAliases": ANY},
 "Container": {"name": S, "image": S, "imagePullPolicy": S, "command": L(S), "args": L(S),
               "workingDir": S, "env": L("EnvVar"), "envFrom": ANY, "ports": L("ContainerPort"),
               "resources": "Resources", "volumeMounts": L("VolumeMount"),
               "livenessProbe": "Probe", "readinessProbe": "Probe", "startupProbe": "Probe",
               "securityContext": "SecurityContext", "lifecycle": ANY,
               "terminationMessagePath": S, "terminationMessagePolicy": S, "stdin": B,
               "tty": B},
 "EnvVar": {"name": S, "value": S, "valueFrom": "EnvVarSource"},
 "EnvVarSource": {"fieldRef": "FieldRef", "secretKeyRef": "KeyRef",
                  "configMapKeyRef": "KeyRef", "resourceFieldRef": ANY},
 "FieldRef": {"fieldPath": S, "apiVersion": S},
 "KeyRef": {"name": S, "key": S, "optional": B},
 "ContainerPort": {"name": S, "containerPort": I, "hostPort": I, "protocol": S, "hostIP": S},
 "Resources": {"requests": "Quantities", "limits": "Quantities"},
 "VolumeMount": {"name": S, "mountPath": S, "readOnly": B, "subPath": S,
                 "mountPropagation": S},
 "Probe": {"httpGet": "HTTPGet", "exec": "Exec", "tcpSocket": "TCPSocket", "grpc": ANY,
           "initialDelaySeconds": I, "periodSeconds": I, "timeoutSeconds": I,
           "failureThreshold": I, "successThreshold": I, "terminationGracePeriodSeconds": I},
 "HTTPGet": {"path": S, "port": IS, "scheme": S, "host": S, "httpHeaders": ANY},
 "Exec": {"command": L(S)},
 "TCPSocket": {"port": IS, "host": S},
 "SecurityContext": {"privileged": B, "runAsUser": I, "runAsGroup": I, "runAsNonRoot": B,
                     "readOnlyRootFilesystem": B, "allowPrivilegeEscalation": B,
                     "capabilities": "Capabilities", "seccompProfile": "SeccompProfile",
                     "procMount": S, "seLinuxOptions": ANY, "appArmorProfile": ANY},
 "Capabilities": {"add": L(S), "drop": L(S)},
 "SeccompProfile": {"type": S, "localhostProfile": S},
 "PodSecurityContext": {"runAsUser": I, "runAsGroup": I, "runAsNonRoot": B, "fsGroup": I,
                        "supplementalGroups": L(I), "seccompProfile": "SeccompProfile",
                        "sysctls": ANY, "fsGroupChangePolicy": S, "seLinuxOptions": ANY},
 "Volume": {"name": S, "configMap": "ConfigMapVolume", "secret": "SecretVolume",
            "hostPath": "HostPath", "emptyDir": "EmptyDir",
            "persistentVolumeClaim": "PVCVolume", "projected": ANY, "downwardAPI": ANY},
 "ConfigMapVolume": {"name": S, "items": ANY, "defaultMode": I, "optional": B},
 "SecretVolume": {"secretName": S, "items": ANY, "defaultMode": I, "optional": B},
 "HostPath": {"path": S, "type": S},
 "EmptyDir": {"medium": S, "sizeLimit": Q},
 "PVCVolume": {"claimName": S, "readOnly": B},
}
QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$")
ENUMS = {("Service", "type"): {"ClusterIP", "NodePort", "LoadBalancer", "ExternalName"},
         ("Container", "imagePullPolicy"): {"Always", "IfNotPresent", "Never"},
         ("PodSpec", "dnsPolicy"): {"ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"},
         ("HostPath", "type"): {"", "DirectoryOrCreate", "Directory", "FileOrCreate", "File",
                                "Socket", "CharDevice", "BlockDevice"}}

def check(v, t, where):
    if t == ANY:
        return
    if isinstance(t, tuple):
        if not isinstance(v, list):
            return bad(where, "expected a list")
        for i, x in enumerate(v):
            check(x, t[1], "%s[%d]" % (where, i))
        return
    if t == S:
        if not isinstance(v, str): bad(where, "expected a string, not %r" % (v,))
        return
    if t == I:
        if isinstance(v, bool) or not isinstance(v, int): bad(where, "expected an integer, not %r" % (v,))
        return
    if t == B:
        if not isinstance(v, bool): bad(where, "expected true or false, not %r" % (v,))
        return
    if t == IS:
        if isinstance(v, bool) or not isinstance(v, (int, str)): bad(where, "expected a number or a name")
        return
    if t == M:
        if not isinstance(v, dict) or not all(isinstance(x, str) for x in v.values()):
            bad(where, "expected a map of strings (quote numbers and booleans)")
        return
    if t == Q:
        if not QUANTITY.match(str(v)): bad(where, "not a quantity: %r" % (v,))
        return
    if t == "Quantities":
        if not isinstance(v, dict):
            return bad(where, "expected a map")
        for k, q in v.items():
            if k not in ("cpu", "memory", "ephemeral-storage", "storage"):
                bad("%s.%s" % (where, k), "unknown resource")
            check(q, Q, "%s.%s" % (where, k))
        return
    if not isinstance(v, dict):
        return bad(where, "expected an object")
    fields = T[t]
    for k, x in v.items():
        if k not in fields:
            bad("%s.%s" % (where, k), "unknown field (misspelt?)")
            continue
        e = ENUMS.get((t, k)) or ENUMS.get((t if t != "ServiceSpec" else "Service", k))
        if e and x not in e:
            bad("%s.%s" % (where, k), "%r is not one of %s" % (x, sorted(e)))
        check(x, fields[k], "%s.%s" % (where, k))

byname = {}
for o in items:
    kind = o.get("kind", "?")
    meta = o.get("metadata", {})
    name = meta.get("name", "?")
    where = "%s/%s" % (kind, name)
    byname[(kind, name)] = o
    meta = dict(meta)
    meta.get("annotations", {}).pop("kubectl.kubernetes.io/last-applied-configuration", None)
    if meta.get("annotations") == {}:
        meta.pop("annotations")
    check(meta, "ObjectMeta", where + ".metadata")
    if kind != "Namespace" and meta.get("namespace") != "hearth":
        bad(where, "not in namespace hearth")
    if kind not in T:
        bad(where, "kind not covered by this check (add it to check_k8s.py)")
        continue
    body = {k: v for k, v in o.items() if k not in ("apiVersion", "kind", "metadata")}
    check(body, kind, where)

if problems:
    print("\n".join(problems))
    sys.exit(1)

# ---- hearth's rules ------------------------------------------------------------
def daemon_settings(d):
    out = subprocess.run([os.path.join(BUILD, "hearth-" + d), "--help"], capture_output=True,
                         text=True).stdout
    return set(re.findall(r"env: (HEARTH_[A-Z0-9_]+)", out)) | {"HEARTH_LOG_LEVEL",
                                                                 "HEARTH_LOG_FORMAT"}

secrets = {n: set(o.get("stringData", {})) | set(o.get("data", {}))
           for (k, n), o in byname.items() if k == "Secret"}
configmaps = {n: o.get("data", {}) for (k, n), o in byname.items() if k == "ConfigMap"}
pods = {}  # (kind, name) -> pod template
for (k, n), o in byname.items():
    if k in ("Deployment", "StatefulSet", "DaemonSet"):
        where = "%s/%s" % (k, n)
        spec = o["spec"]
        tpl = spec.get("template", {})
        labels = tpl.get("metadata", {}).get("labels", {})
        sel = spec.get("selector", {}).get("matchLabels", {})
        if not sel or any(labels.get(a) != b for a, b in sel.items()):
            bad(where, "selector.matchLabels must be set and match the template's labels")
        pods[(k, n)] = tpl

# Daemons by container name: the hearth daemon each one runs.
DAEMONS = {"controller", "scheduler", "agent"}
seen = set()
for (k, n), tpl in pods.items():
    ps = tpl.get("spec", {})
    vols = {v["name"]: v for v in ps.get("volumes", [])}
    for v in byname[(k, n)]["spec"].get("volumeClaimTemplates", []):
        vols[v["metadata"]["name"]] = {"persistentVolumeClaim": {}}
    for c in ps.get("containers", []):
        where = "%s/%s container %s" % (k, n, c.get("name"))
        portnames = {p.get("name") for p in c.get("ports", [])}
        ports = {p.get("containerPort") for p in c.get("ports", [])}
        for pr in ("readinessProbe", "livenessProbe"):
            p = c.get(pr)
            if not p:
                bad(where, "no %s" % pr)
                continue
            for h in ("httpGet", "tcpSocket"):
                if h in p:
                    port = p[h].get("port")
                    if (isinstance(port, str) and port not in portnames) or \
                       (isinstance(port, int) and port not in ports):
                        bad(where, "%s port %r is not a container port" % (pr, port))
        req = c.get("resources", {}).get("requests", {})
        if "cpu" not in req or "memory" not in req:
            bad(where, "needs resources.requests cpu and memory")
        defined = set()
        for e in c.get("env", []):
            for ref in re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", e.get("value", "")):
                if ref not in defined:
                    bad(where, "env %s uses $(%s) before it is defined" % (e["name"], ref))
            defined.add(e["name"])
            sk = e.get("valueFrom", {}).get("secretKeyRef")
            if sk and sk.get("key") not in secrets.get(sk.get("name"), set()):
                bad(where, "env %s: no Secret %s with key %s" % (e["name"], sk.get("name"), sk.get("key")))
        for m in c.get("volumeMounts", []):
            if m["name"] not in vols:
                bad(where, "mounts volume %s that the pod does not have" % m["name"])
        d = c.get("name")
        if d in DAEMONS:
            seen.add(d)
            if not (c.get("image") or "").startswith("hearth"):
                bad(where, "image should be hearth's")
            known = daemon_settings(d)
            for e in c.get("env", []):
                if e["name"].startswith("HEARTH_") and e["name"] not in known:
                    bad(where, "env %s is not a hearth-%s setting (see its --help)" % (e["name"], d))
            for pr in ("readinessProbe", "livenessProbe"):
                if c.get(pr, {}).get("httpGet", {}).get("path") != "/healthz":
                    bad(where, "%s must be httpGet /healthz" % pr)
            # Its config comes from a ConfigMap with <daemon>.conf, mounted at /etc/hearth.
            cmd = " ".join(c.get("command", []) + c.get("args", []))
            if "-c /etc/hearth/%s.conf" % d not in cmd:
                bad(where, "should run with -c /etc/hearth/%s.conf" % d)
            mounted = [vols.get(m["name"], {}) for m in c.get("volumeMounts", [])
                       if m.get("mountPath") == "/etc/hearth"]
            cmname = mounted and mounted[0].get("configMap", {}).get("name")
            if not cmname or "%s.conf" % d not in configmaps.get(cmname, {}):
                bad(where, "/etc/hearth must be a ConfigMap holding %s.conf" % d)
    for v in vols.values():
        cm = v.get("configMap", {}).get("name")
        if cm and cm not in configmaps:
            bad("%s/%s volume %s" % (k, n, v["name"]), "no ConfigMap %s" % cm)
for d in sorted(DAEMONS - seen):
    bad("manifests", "no workload runs the %s (a container named %s)" % (d, d))

# Services select some pod and name its ports.
for (k, n), o in byname.items():
    if k != "Service":
        continue
    sel = o["spec"].get("selector", {})
    match = [t for t in pods.values()
             if sel and all(t.get("metadata", {}).get("labels", {}).get(a) == b for a, b in sel.items())]
    if not match:
        bad("Service/" + n, "selects no pod template")
        continue
    names = {p.get("name") for t in match for c in t["spec"]["containers"] for p in c.get("ports", [])}
    for p in o["spec"].get("ports", []):
        tp = p.get("targetPort")
        if isinstance(tp, str) and tp not in names:
            bad("Service/" + n, "targetPort %s is no container port name" % tp)

# The shape the deployment promises.
def need(cond, where, msg):
    if not cond:
        bad(where, msg)
ds = byname.get(("DaemonSet", "hearth-agent"))
need(ds, "DaemonSet/hearth-agent", "missing")
if ds:
    ps = ds["spec"]["template"]["spec"]
    c = ps["containers"][0]
    need(ps.get("hostNetwork") is True, "agent", "needs hostNetwork (containers listen on host ports)")
    need(ps.get("hostPID") is True, "agent", "needs hostPID (runc state holds host PIDs)")
    need(ps.get("dnsPolicy") == "ClusterFirstWithHostNet", "agent", "needs dnsPolicy ClusterFirstWithHostNet")
    need(c.get("securityContext", {}).get("privileged") is True, "agent", "must be privileged")
    vols = {v["name"]: v for v in ps.get("volumes", [])}
    hp = {m["mountPath"]: vols.get(m["name"], {}).get("hostPath", {}).get("path")
          for m in c.get("volumeMounts", [])}
    need(hp.get("/sys/fs/cgroup") == "/sys/fs/cgroup", "agent", "must mount the host's /sys/fs/cgroup")
    need(hp.get("/run/hearth-agent") == "/run/hearth-agent", "agent", "must mount the host's /run/hearth-agent (runc state)")
sd = byname.get(("Deployment", "hearth-scheduler"))
need(sd and sd["spec"].get("replicas") == 2, "Deployment/hearth-scheduler", "needs 2 replicas")
need(("Deployment", "hearth-controller") in byname and ("Service", "hearth-controller") in byname,
     "controller", "needs a Deployment behind a Service")
rs = byname.get(("StatefulSet", "hearth-redis"))
need(rs and rs["spec"].get("volumeClaimTemplates"), "StatefulSet/hearth-redis", "needs a PVC")
need(any(k == "Secret" for k, _ in byname) and "hearth-cluster" in secrets
     and "token" in secrets["hearth-cluster"], "Secret/hearth-cluster", "needs the cluster token")

# Every ConfigMap's <daemon>.conf passes that daemon's -t.
for cm, data in configmaps.items():
    for key, text in data.items():
        m = re.match(r"^(controller|scheduler|agent)\.conf$", key)
        if not m:
            continue
        if re.search(r"^\s*(token|redis)\s*=", text, re.M):
            bad("ConfigMap/%s %s" % (cm, key), "sets a secret (token or redis): use the Secrets")
        path = os.path.join(TMP, "cm-" + key)
        with open(path, "w") as f:
            f.write(text)
        r = subprocess.run([os.path.join(BUILD, "hearth-" + m.group(1)), "-t", "-c", path],
                           capture_output=True, text=True, env={"PATH": os.environ["PATH"]})
        if r.returncode != 0:
            bad("ConfigMap/%s %s" % (cm, key), "hearth-%s -t: %s" % (m.group(1), r.stderr.strip()))

if problems:
    print("\n".join(problems))
    sys.exit(1)
print("  %d objects checked" % len(items))
PY

KUBECONFIG_FILE=$TMP/kubeconfig
start_stub() {
	[ -n "$STUB_PID" ] && return 0
	"$PYTHON" "$TMP/stub.py" "$TMP/stub.port" 2>"$TMP/stub.log" &
	STUB_PID=$!
	i=0
	while [ ! -s "$TMP/stub.port" ]; do
		i=$((i + 1))
		if [ $i -gt 100 ] || ! kill -0 "$STUB_PID" 2>/dev/null; then
			say "the stub API server did not start:"
			cat "$TMP/stub.log"
			return 1
		fi
		sleep 0.1
	done
	cat >"$KUBECONFIG_FILE" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: stub
  cluster:
    server: http://127.0.0.1:$(cat "$TMP/stub.port")
contexts:
- name: stub
  context: {cluster: stub, user: stub}
users:
- name: stub
  user: {}
current-context: stub
EOF
}

check_manifests() { # DIR
	rc=0
	ls "$1"/*.yaml >/dev/null 2>&1 || {
		say "  $1: no manifests"
		return 1
	}
	# A private HOME: kubectl caches discovery there.
	if ! HOME=$TMP KUBECONFIG=$KUBECONFIG_FILE timeout 120 "$KUBECTL" apply --dry-run=client \
		--validate=false -o json -f "$1" >"$TMP/objects.json" 2>"$TMP/kubectl.err"; then
		say "  kubectl apply --dry-run=client rejects $1:"
		sed 's/^/    /' "$TMP/kubectl.err"
		return 1
	fi
	"$PYTHON" "$TMP/check_k8s.py" "$TMP/objects.json" "$BUILD" "$TMP" || rc=1
	return $rc
}

have_kubectl=0
if ! command -v "$PYTHON" >/dev/null 2>&1; then
	say "SKIPPED: Kubernetes manifests not checked: python3 is missing"
elif command -v "$KUBECTL" >/dev/null 2>&1; then
	if start_stub; then
		have_kubectl=1
		say "kubectl: $("$KUBECTL" version --client 2>/dev/null | head -n 1)"
	else
		fail "cannot start the stub API server"
	fi
else
	say "SKIPPED: Kubernetes manifests not checked: kubectl is missing (Debian: apt-get install -y kubernetes-client)"
fi

# ---- run on the real files ---------------------------------------------------------

say "== example configs (deploy/config)"
check_configs "$SRC/deploy/config" || fail "deploy/config"
say "== systemd units (deploy/systemd)"
if ! command -v "$ANALYZE" >/dev/null 2>&1; then
	say "  (systemd-analyze is missing: structural check only)"
fi
check_units "$SRC/deploy/systemd" || fail "deploy/systemd"
if [ $have_kubectl = 1 ]; then
	say "== Kubernetes manifests (deploy/k8s)"
	check_manifests "$SRC/deploy/k8s" || fail "deploy/k8s"
fi

# ---- self-test: broken copies must fail --------------------------------------------

# must_fail NAME PATTERN CHECK DIR: CHECK DIR must fail, saying PATTERN (a
# grep -E pattern), so it fails for the reason the broken copy was made.
must_fail() {
	if "$3" "$4" >"$TMP/selftest.out" 2>&1; then
		fail "self-test '$1': the check passed a broken copy"
		sed 's/^/    /' "$TMP/selftest.out"
	elif ! grep -Eq -e "$2" "$TMP/selftest.out"; then
		fail "self-test '$1': the check failed, but not with /$2/:"
		sed 's/^/    /' "$TMP/selftest.out"
	else
		say "  ok: $1: $(grep -E -e "$2" "$TMP/selftest.out" | head -n 1 | sed 's/^ *//')"
	fi
}
copy() { # SRCDIR -> $TMP/copy (fresh)
	rm -rf "$TMP/copy"
	mkdir -p "$TMP/copy"
	cp "$1"/* "$TMP/copy/"
}

say "== self-test: broken copies must fail"
copy "$SRC/deploy/config"
printf 'pause-grace = soon\n' >>"$TMP/copy/controller.conf"
must_fail "bad value in a config" "is not a duration" check_configs "$TMP/copy"
copy "$SRC/deploy/config"
printf 'leese = 2s\n' >>"$TMP/copy/scheduler.conf"
must_fail "unknown setting in a config" "unknown setting .leese" check_configs "$TMP/copy"
copy "$SRC/deploy/config"
sed -i '/^#\{0,1\} *log-wait *=/d' "$TMP/copy/agent.conf"
must_fail "setting missing from a config" "not in the file: log-wait" check_configs "$TMP/copy"
copy "$SRC/deploy/config"
printf 'token = hunter2\n' >>"$TMP/copy/agent.conf"
must_fail "secret in a config" "sets a secret" check_configs "$TMP/copy"
copy "$SRC/deploy/config"
sed -i 's/^# port = 3235$/# port = 70000/' "$TMP/copy/agent.conf"
must_fail "bad commented example" "commented examples switched on.*out of range" check_configs "$TMP/copy"

copy "$SRC/deploy/systemd"
sed -i 's/^ProtectSystem=strict$/ProtectSystem=strictly/' "$TMP/copy/hearth-agent.service"
must_fail "bad directive value in a unit" "strictly|unknown directive" check_units "$TMP/copy"
copy "$SRC/deploy/systemd"
sed -i 's/^Restart=on-failure$/Restart=no/' "$TMP/copy/hearth-controller.service"
must_fail "unit without Restart=on-failure" "no Restart=on-failure" check_units "$TMP/copy"
copy "$SRC/deploy/systemd"
printf '[Service]\nExecStartt=/bin/true\n' >>"$TMP/copy/hearth-scheduler.service"
must_fail "misspelt directive in a unit" "ExecStartt" check_units "$TMP/copy"

if [ $have_kubectl = 1 ]; then
	copy "$SRC/deploy/k8s"
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: hearth\ndata: [\n' >>"$TMP/copy/20-redis.yaml"
	must_fail "YAML syntax error" "rejects" check_manifests "$TMP/copy"
	copy "$SRC/deploy/k8s"
	sed -i 's/^kind: DaemonSet$/kind: DaemonSett/' "$TMP/copy/50-agent.yaml"
	must_fail "unknown kind" "DaemonSett" check_manifests "$TMP/copy"
	copy "$SRC/deploy/k8s"
	sed -i 's/^  replicas: 2$/  replicsa: 2/' "$TMP/copy/30-scheduler.yaml"
	must_fail "misspelt field" "replicsa: unknown field" check_manifests "$TMP/copy"
	copy "$SRC/deploy/k8s"
	sed -i 's/readinessProbe:/startupProbe:/' "$TMP/copy/40-controller.yaml"
	must_fail "daemon without a readiness probe" "container controller: no readinessProbe" check_manifests "$TMP/copy"
	copy "$SRC/deploy/k8s"
	sed -i 's/HEARTH_SCHEDULER_URL$/HEARTH_SCHEDULER_ULR/' "$TMP/copy/30-scheduler.yaml"
	must_fail "unknown HEARTH_ variable" "HEARTH_SCHEDULER_ULR is not a hearth-scheduler setting" check_manifests "$TMP/copy"
	copy "$SRC/deploy/k8s"
	sed -i 's/^    backend = runc$/    backend = runc\n    memroy = 4096/' "$TMP/copy/50-agent.yaml"
	must_fail "bad config in a ConfigMap" "unknown setting .memroy" check_manifests "$TMP/copy"
	copy "$SRC/deploy/k8s"
	sed -i 's/^    port = 3234$/    port = 3234\n    token = hunter2/' "$TMP/copy/30-scheduler.yaml"
	must_fail "secret in a ConfigMap" "hearth-scheduler scheduler.conf: sets a secret" check_manifests "$TMP/copy"
	copy "$SRC/deploy/k8s"
	sed -i 's/^      hostNetwork: true$/      hostNetwork: false/' "$TMP/copy/50-agent.yaml"
	must_fail "agent off the host network" "needs hostNetwork" check_manifests "$TMP/copy"
	copy "$SRC/deploy/k8s"
	sed -i 's/key: token$/key: tokn/' "$TMP/copy/40-controller.yaml"
	must_fail "reference to a missing Secret key" "no Secret hearth-cluster with key tokn" check_manifests "$TMP/copy"
fi

if [ $failures -ne 0 ]; then
	say "deploy_files: $failures failure(s)"
	exit 1
fi
say "deploy_files: all checks passed"
