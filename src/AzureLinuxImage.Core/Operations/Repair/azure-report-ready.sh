#!/bin/sh
# Written by azlinux agentless (Install-AgentlessProvisioning): reports this VM Ready to Azure at first
# boot, for images without walinuxagent, cloud-init or azure-init (R-NOAGENT-3..5). Run by
# azure-provisioning.service, which disables itself once the report was accepted (exit 0).
# Follows the wire protocol as the agents implement it (PROTOCOL.md): goal state
# GET /machine/?comp=goalstate, health POST /machine?comp=health with the goal state's Incarnation
# echoed, 410 (or 400 InvalidContainerConfiguration) -> fetch the goal state again and rebuild the
# report, other failures retried with the agent's backoff (2, 3, 5, 8, 13 s) inside a 20-minute budget.
# The hostname comes from IMDS compute/osProfile/computerName (compute/name as a fallback).
# Overridable for tests: AZURE_WIRESERVER_URL, AZURE_IMDS_URL, AZURE_READY_BUDGET (seconds),
# AZURE_READY_HOSTNAME_FILE (default /etc/hostname), AZURE_READY_NO_HOSTNAMECTL=1, AZURE_READY_BACKOFF.
set -u
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# Never through a proxy to the wire server or IMDS.
unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
AGENT="azure-provisioning.service"
BUDGET=${AZURE_READY_BUDGET:-1200}
BACKOFF=${AZURE_READY_BACKOFF:-"2 3 5 8 13"}
HOSTNAME_FILE=${AZURE_READY_HOSTNAME_FILE:-/etc/hostname}
TMP=$(mktemp -d /tmp/azure-ready.XXXXXX) || exit 1
trap 'rm -rf "$TMP"' EXIT
START=$(date +%s)
ATTEMPT=0

log() { echo "azure-report-ready: $*" >&2; }

if command -v curl >/dev/null 2>&1; then
  HTTP=curl
elif command -v wget >/dev/null 2>&1; then
  HTTP=wget
else
  log "neither curl nor wget is installed: cannot report ready"
  exit 1
fi

# http METHOD URL OUTFILE BODYFILE [Name:Value ...]: prints the HTTP status (000 when no answer).
# Header items carry no spaces (HTTP allows none after the colon), so they pass through plain sh words.
http() {
  method=$1 url=$2 out=$3 body=$4
  shift 4
  headers="$*"
  set --
  for h in $headers; do
    if [ "$HTTP" = curl ]; then set -- "$@" -H "$h"; else set -- "$@" "--header=$h"; fi
  done
  : >"$out"
  if [ "$HTTP" = curl ]; then
    [ "$method" = POST ] && set -- "$@" -X POST --data-binary "@$body"
    curl --noproxy '*' -s --connect-timeout 10 --max-time 30 -o "$out" -w '%{http_code}' "$@" "$url" 2>/dev/null || true
  else
    [ "$method" = POST ] && set -- "$@" "--post-file=$body"
    wget -q -S -T 30 -t 1 -O "$out" "$@" "$url" 2>"$TMP/headers" || true
    code=$(sed -n 's/^ *HTTP\/[0-9.]* \([0-9][0-9][0-9]\).*/\1/p' "$TMP/headers" | tail -n 1)
    echo "${code:-000}"
  fi
}

# Waits the next backoff step; false when the budget is spent.
pause() {
  ATTEMPT=$((ATTEMPT + 1))
  step=13
  i=0
  for s in $BACKOFF; do
    i=$((i + 1))
    [ $i -eq $ATTEMPT ] && step=$s && break
    step=$s
  done
  now=$(date +%s)
  [ $((now - START + step)) -le "$BUDGET" ] || return 1
  sleep "$step"
}

# The wire server: an override, DHCP option 245 from a lease, or 168.63.129.16.
endpoint() {
  if [ -n "${AZURE_WIRESERVER_URL:-}" ]; then echo "$AZURE_WIRESERVER_URL"; return; fi
  hex=""
  for f in /var/lib/dhcp/*.leases /var/lib/dhclient/*.leases /var/lib/NetworkManager/*.lease; do
    [ -f "$f" ] || continue
    v=$(sed -n 's/.*option unknown-245 \([0-9a-fA-F:]*\);.*/\1/p' "$f" | tail -n 1)
    [ -n "$v" ] && hex=$(echo "$v" | tr -d ':')
  done
  if [ -z "$hex" ]; then
    for f in /run/systemd/netif/leases/*; do
      [ -f "$f" ] || continue
      v=$(sed -n 's/^OPTION_245=\([0-9a-fA-F]*\)$/\1/p' "$f" | tail -n 1)
      [ -n "$v" ] && hex=$v
    done
  fi
  if [ ${#hex} -eq 8 ]; then
    a=$(printf '%d' "0x$(echo "$hex" | cut -c1-2)") b=$(printf '%d' "0x$(echo "$hex" | cut -c3-4)")
    c=$(printf '%d' "0x$(echo "$hex" | cut -c5-6)") d=$(printf '%d' "0x$(echo "$hex" | cut -c7-8)")
    echo "http://$a.$b.$c.$d"
  else
    echo "http://168.63.129.16"
  fi
}

IMDS=${AZURE_IMDS_URL:-http://169.254.169.254}
WIRE=$(endpoint)
log "wire server $WIRE, IMDS $IMDS, using $HTTP"

# IMDS GET (Metadata: true); prints the body on 200. Retried like cloud-init and azure-init: no answer,
# 404, 410, 429, 500, 503; 400 falls back to api-version 2019-06-01; 401/403/405 are final.
imds() {
  path=$1 query=$2 version=2021-08-01
  while :; do
    code=$(http GET "$IMDS/metadata/$path?api-version=$version$query" "$TMP/imds" "" "Metadata:true")
    case $code in
      200) cat "$TMP/imds"; return 0 ;;
      400) [ "$version" = 2019-06-01 ] && return 1; version=2019-06-01; continue ;;
      401|403|405) return 1 ;;
    esac
    pause || return 1
  done
}

# A pre-provisioned (pooled) VM must not be claimed provisioned (PROTOCOL.md, IMDS: extended.compute.ppsType).
doc=$(imds instance "&extended=true" | tr -d '\r\n' || true)
pps=$(echo "$doc" | sed -n 's/.*"ppsType"[ ]*:[ ]*"\([^"]*\)".*/\1/p')
if [ -n "$pps" ] && [ "$pps" != "None" ]; then
  log "pre-provisioned VM (ppsType $pps): not reporting ready"
  exit 1
fi
ATTEMPT=0

# Hostname (R-NOAGENT-4): the name asked for (compute/osProfile/computerName), else the resource name.
name=""
if [ -n "$doc" ]; then
  name=$(imds instance/compute/osProfile/computerName "&format=text" || true)
  [ -n "$name" ] || name=$(imds instance/compute/name "&format=text" || true)
fi
ATTEMPT=0
if [ -n "$name" ]; then
  echo "$name" >"$HOSTNAME_FILE"
  if [ -z "${AZURE_READY_NO_HOSTNAMECTL:-}" ]; then
    hostnamectl set-hostname "$name" 2>/dev/null || hostname "$name" 2>/dev/null || true
  fi
  log "hostname $name"
fi

# Goal state: Incarnation, ContainerId and the first InstanceId; fetched again while incomplete.
goalstate() {
  while :; do
    code=$(http GET "$WIRE/machine/?comp=goalstate" "$TMP/goalstate" "" "x-ms-version:2012-11-30" "x-ms-agent-name:$AGENT")
    if [ "$code" = 200 ]; then
      flat=$(tr -d '\r\n' <"$TMP/goalstate")
      INCARNATION=$(echo "$flat" | sed -n 's:.*<Incarnation>\([^<]*\)</Incarnation>.*:\1:p')
      CONTAINER=$(echo "$flat" | sed -n 's:.*<ContainerId>\([^<]*\)</ContainerId>.*:\1:p')
      INSTANCE=$(echo "$flat" | sed -n 's:.*<RoleInstance>[^<]*<InstanceId>\([^<]*\)</InstanceId>.*:\1:p')
      if [ -n "$INCARNATION" ] && [ -n "$CONTAINER" ] && [ -n "$INSTANCE" ]; then
        log "goal state incarnation $INCARNATION, container $CONTAINER, instance $INSTANCE"
        return 0
      fi
      log "goal state without a role instance yet"
    else
      log "goal state: HTTP $code"
    fi
    pause || return 1
  done
}

goalstate || { log "no goal state within ${BUDGET}s"; exit 1; }
while :; do
  # The values come from the goal state's XML text, so they are already escaped for XML.
  cat >"$TMP/health.xml" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<Health xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"><GoalStateIncarnation>$INCARNATION</GoalStateIncarnation><Container><ContainerId>$CONTAINER</ContainerId><RoleInstanceList><Role><InstanceId>$INSTANCE</InstanceId><Health><State>Ready</State></Health></Role></RoleInstanceList></Container></Health>
EOF
  code=$(http POST "$WIRE/machine?comp=health" "$TMP/response" "$TMP/health.xml" "x-ms-version:2012-11-30" "x-ms-agent-name:$AGENT" "Content-Type:text/xml;charset=utf-8")
  case $code in
    200|201|202) log "ready reported (HTTP $code)"; exit 0 ;;
    410) log "HTTP 410: stale goal state, fetching it again"; pause || break; goalstate || break; continue ;;
    400) if grep -q InvalidContainerConfiguration "$TMP/response" 2>/dev/null; then
           log "HTTP 400 InvalidContainerConfiguration: fetching the goal state again"; pause || break; goalstate || break; continue
         fi
         log "health report refused: HTTP 400"; exit 1 ;;
    *) log "health report: HTTP $code"; pause || break ;;
  esac
done
log "ready was not accepted within ${BUDGET}s"
exit 1
