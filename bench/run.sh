#!/usr/bin/env bash
# bench/run.sh: load benchmark of wechat_auth against a plain reverse_proxy
# and against the usual alternative (forward_auth to a small session
# service), with its sessions in memory and in Redis (near cache on, and
# off: the cache-miss path). See bench/README.md.
#
#   bench/run.sh                          # 5 rounds x 10 s per target, wrk -t2 -c64
#   ROUNDS=2 DURATION=3 bench/run.sh      # a quick run
#
# Knobs (environment): ROUNDS (5), DURATION (10, seconds per target and
# round), CONNS (64), THREADS (2), WARMUP (2, seconds per target before
# round 1, 0 for none), LOGIN_DURATION (10, seconds), BASE_PORT (19100),
# REDIS (1; 0 leaves out the Redis targets R and RC and redis-server),
# SCALE (1000000: logins that fill the store of target BF first; 0 leaves
# BF out), KEEP=1 (keep the temp dir with the binaries, logs and raw wrk output).
set -euo pipefail

ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
WARMUP=${WARMUP:-2}
LOGIN_DURATION=${LOGIN_DURATION:-10}
BASE_PORT=${BASE_PORT:-19100}
REDIS=${REDIS:-1}
SCALE=${SCALE:-1000000}
KEEP=${KEEP:-0}

APP_ID=wxbench000000001
APP_SECRET=benchsecret
# the Redis targets are apps of their own: an app's store is one for all
# of its blocks (contract v2), so R (near cache) and RC (near cache off)
# cannot share B's app_id
APP_ID_R=wxbench000000002
APP_ID_RC=wxbench000000003
# BI: B with idle_timeout on (a store setting: an app of its own too)
APP_ID_BI=wxbench000000004
# BF: B with a full store (SCALE logins of as many users first)
APP_ID_BF=wxbench000000005
# W's website application (its login is not measured: W's cookie is a
# web-view handoff session of B's app)
APP_ID_WEB=wxbenchweb000001

say() { printf '%s\n' "$*" >&2; }
die() { say "bench: FAILED: $*"; exit 1; }

for v in ROUNDS DURATION CONNS THREADS WARMUP LOGIN_DURATION BASE_PORT REDIS SCALE; do
	[[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number (seconds for durations), got '${!v}'"
done
((ROUNDS >= 1)) || die "ROUNDS must be at least 1"
((DURATION >= 1 && LOGIN_DURATION >= 1)) || die "DURATION and LOGIN_DURATION must be at least 1"
((CONNS >= THREADS && THREADS >= 1)) || die "need CONNS >= THREADS >= 1"
((REDIS == 0 || REDIS == 1)) || die "REDIS must be 0 or 1, got '$REDIS'"

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

# ---------------------------------------------------------------- cleanup
PIDS=()
WORK=""
WRK_PID=""
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	local pid i
	if [[ -n $WRK_PID ]]; then kill -TERM "$WRK_PID" 2>/dev/null || true; fi
	for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
		wait "$pid" 2>/dev/null || true
	done
	if [[ -n $WORK && -d $WORK ]]; then
		if [[ $KEEP == 1 ]] || ((rc != 0 && rc != 130 && rc != 143)); then
			say "bench: binaries, logs and raw wrk output kept in $WORK"
		else
			rm -rf "$WORK"
		fi
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- tools
# need CMD: install the Debian package CMD (apt-get) unless CMD is there.
need() {
	command -v "$1" >/dev/null 2>&1 && return 0
	say "bench: installing $1 (apt-get)"
	local sudo=()
	((EUID == 0)) || sudo=(sudo)
	"${sudo[@]}" apt-get update -qq && "${sudo[@]}" apt-get install -y -qq "$1" >/dev/null || die "apt-get install $1 failed"
}
need wrk
need curl
if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
	PATH=/usr/local/go/bin:$PATH
fi
command -v go >/dev/null 2>&1 || die "go not found (install Go 1.26, see README.md)"
if ((REDIS == 1)); then need redis-server; fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/wxauth-bench.XXXXXX")
BIN=$WORK/bin
LOGS=$WORK/logs
RAW=$WORK/wrk
mkdir -p "$BIN" "$LOGS" "$RAW"

# ---------------------------------------------------------------- build
for pkg in ./cmd/caddy ./cmd/wxfake ./cmd/echo ./bench/sessiond ./bench/fill; do
	name=$(basename "$pkg")
	say "bench: go build $pkg"
	go build -o "$BIN/$name" "$pkg" >"$LOGS/build-$name.log" 2>&1 || {
		cat "$LOGS/build-$name.log" >&2
		die "go build $pkg failed"
	}
done

# ---------------------------------------------------------------- ports
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

NPORTS=15 # wxfake, upstream, sessiond, A, B, B-phone, C, R, RC, redis-server, BI, BA, BF, W, B5
base=""
for ((try = 0; try < 10; try++)); do
	cand=$((BASE_PORT + try * 20))
	busy=0
	for ((i = 0; i < NPORTS; i++)); do
		if port_in_use $((cand + i)); then busy=1 && break; fi
	done
	if ((busy == 0)); then base=$cand && break; fi
done
[[ -n $base ]] || die "no free block of $NPORTS ports from $BASE_PORT on (set BASE_PORT)"
P_WX=$base P_UP=$((base + 1)) P_SESS=$((base + 2))
P_A=$((base + 3)) P_B=$((base + 4)) P_BP=$((base + 5)) P_C=$((base + 6))
P_R=$((base + 7)) P_RC=$((base + 8)) P_REDIS=$((base + 9)) P_BI=$((base + 10)) P_BA=$((base + 11))
P_BF=$((base + 12)) P_W=$((base + 13)) P_B5=$((base + 14))

# wait_port NAME PID PORT: wait until PORT listens, failing if PID died.
wait_port() {
	local name=$1 pid=$2 port=$3 i
	for ((i = 0; i < 200; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			tail -n 30 "$LOGS/$name.log" >&2 || true
			die "$name exited before listening on 127.0.0.1:$port"
		fi
		port_in_use "$port" && return 0
		sleep 0.05
	done
	tail -n 30 "$LOGS/$name.log" >&2 || true
	die "$name does not listen on 127.0.0.1:$port after 10 s"
}

# start NAME CMD...: start a process in the background, log to $LOGS/NAME.log.
start() {
	local name=$1
	shift
	"$@" >"$LOGS/$name.log" 2>&1 &
	PIDS+=($!)
	LAST_PID=$!
}

# wrk_to OUTFILE ARGS...: run wrk, output to OUTFILE. In the background with
# a wait, so that Ctrl-C or a TERM stops the script at once (wrk itself
# catches SIGINT and exits 0, which bash would take as handled).
wrk_to() {
	local out=$1 rc=0
	shift
	wrk "$@" >"$out" 2>&1 &
	WRK_PID=$!
	wait "$WRK_PID" || rc=$?
	WRK_PID=""
	return "$rc"
}

# ---------------------------------------------------------------- start
start wxfake "$BIN/wxfake" -listen "127.0.0.1:$P_WX" -app "$APP_ID:$APP_SECRET" \
	-app "$APP_ID_R:$APP_SECRET" -app "$APP_ID_RC:$APP_SECRET" -app "$APP_ID_BI:$APP_SECRET" \
	-app "$APP_ID_BF:$APP_SECRET"
wait_port wxfake "$LAST_PID" "$P_WX"
start upstream "$BIN/echo" -tiny -listen "127.0.0.1:$P_UP"
wait_port upstream "$LAST_PID" "$P_UP"
start sessiond "$BIN/sessiond" -listen "127.0.0.1:$P_SESS"
wait_port sessiond "$LAST_PID" "$P_SESS"
if ((REDIS == 1)); then
	mkdir -p "$WORK/redis"
	start redis redis-server --port "$P_REDIS" --bind 127.0.0.1 --save "" --appendonly no \
		--dir "$WORK/redis" --loglevel warning
	wait_port redis "$LAST_PID" "$P_REDIS"
fi

# The Caddyfile: every app asks the fake WeChat with the one secret, every
# site proxies to the tiny upstream.
# app_settings INDENT [SETTING...]: app_secret and api_base, then the
# SETTINGs, a line each at INDENT (tabs).
app_settings() {
	local in=$1
	shift
	printf "$in%s\n" "app_secret $APP_SECRET" "api_base http://127.0.0.1:$P_WX" "$@"
}
# app_block ID [SETTING...]: an app block of a wechat_auth.
app_block() {
	local app=$1
	shift
	printf '\t\tapp %s {\n' "$app"
	app_settings '\t\t\t' "$@"
	printf '\t\t}\n'
}
# site COMMENT PORT [DIRECTIVES]: a site block after its comment: the
# DIRECTIVES (Caddyfile text, indented), then reverse_proxy to the upstream.
site() {
	printf '\n%s\nhttp://127.0.0.1:%s {\n' "$1" "$2"
	if [[ -n ${3:-} ]]; then printf '%s\n' "${3%$'\n'}"; fi
	printf '\treverse_proxy 127.0.0.1:%s\n}\n' "$P_UP"
}
# wechat_site COMMENT PORT APP_ID [SETTING...]: a site of one wechat_auth app.
wechat_site() {
	local comment=$1 port=$2 app=$3
	shift 3
	site "$comment" "$port" "$(printf '\twechat_auth {\n\t\tapp_id %s\n' "$app"
		app_settings '\t\t' "$@"
		printf '\t}')"
}
# apps_site COMMENT PORT BLOCKS: a site of a wechat_auth of app blocks.
apps_site() { site "$1" "$2" "$(printf '\twechat_auth {\n%s\n\t}' "$3")"; }

CADDYFILE=$WORK/Caddyfile
{
	printf '{\n\tadmin off\n\tauto_https off\n\tstorage file_system %s\n\tlog {\n\t\tlevel ERROR\n\t}\n}\n' "$WORK/storage"
	site "# A: plain reverse_proxy" "$P_A"
	wechat_site "# B: wechat_auth (require openid) + reverse_proxy" "$P_B" "$APP_ID"
	wechat_site "# B-phone: wechat_auth require phone (same app: same sessions as B)" "$P_BP" "$APP_ID" "require phone"
	apps_site "# W: B's app and a website application (WeChat in the browser) in one
# block, the request authenticated by the wx_session cookie (a web-view
# handoff session of B's app) among two other cookies, which go on" "$P_W" "$(
		app_block "$APP_ID"
		app_block "$APP_ID_WEB" "platform wechat_web" "open_base http://127.0.0.1:$P_WX"
	)"
	wechat_site "# BI: B with idle_timeout on (a session unused for 30 minutes ends; use
# renews it, at most every 7.5 minutes)" "$P_BI" "$APP_ID_BI" "idle_timeout 30m"
	wechat_site "# BA: wechat_auth with assertion on (same app: same sessions as B)" "$P_BA" "$APP_ID" "assertion on"
	apps_site "# B5: B's app in a block of five apps (app blocks; B's app last, so its
# token's tag is found after four others): issue 22 wants B5/A as B/A" "$P_B5" "$(
		for i in 1 2 3 4; do app_block "wxbench5app0000$i"; done
		app_block "$APP_ID"
	)"
	wechat_site "# BF: B with a store of its own, filled with SCALE sessions (max_sessions
# 1000000: once full, each login ends the session used least recently)" "$P_BF" "$APP_ID_BF" "max_sessions 1000000"
	site "# C: forward_auth to a separate session service, then reverse_proxy" "$P_C" "$(
		printf '\tforward_auth 127.0.0.1:%s {\n\t\turi /check\n\t\tcopy_headers X-WX-OpenID X-WX-UnionID\n\t}' "$P_SESS"
	)"
	if ((REDIS == 1)); then
		wechat_site "# R: wechat_auth with its sessions in Redis (near cache on) + reverse_proxy" \
			"$P_R" "$APP_ID_R" "redis redis://127.0.0.1:$P_REDIS"
		wechat_site "# RC: the same with the near cache off: every request asks Redis (what a
# near cache miss costs)" "$P_RC" "$APP_ID_RC" "redis redis://127.0.0.1:$P_REDIS?near_cache=off"
	fi
} >"$CADDYFILE"
start caddy "$BIN/caddy" run --config "$CADDYFILE" --adapter caddyfile
CADDY_PID=$LAST_PID
SITES=("$P_A" "$P_B" "$P_BP" "$P_C" "$P_BI" "$P_BA" "$P_BF" "$P_W" "$P_B5")
if ((REDIS == 1)); then SITES+=("$P_R" "$P_RC"); fi
for p in "${SITES[@]}"; do wait_port caddy "$CADDY_PID" "$p"; done

# ---------------------------------------------------------------- tokens
# login PORT CODE: prints the token of a successful /wx/login.
login() {
	local resp tok
	resp=$(curl -sS -X POST -H 'Content-Type: application/json' \
		-d "{\"code\":\"$2\"}" "http://127.0.0.1:$1/wx/login") || die "POST /wx/login on :$1 failed"
	tok=$(printf '%s' "$resp" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
	[[ -n $tok ]] || die "POST /wx/login $2 gave no token: $resp"
	printf '%s' "$tok"
}
# rss_mib PID: the resident set of a process, in MiB.
rss_mib() { awk '/^VmRSS:/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }

# ---------------------------------------------------------------- fill
# SCALE real logins (through Caddy and the fake WeChat) of as many users
# into BF's store, before anything is measured
FILL_LINE=""
if ((SCALE > 0)); then
	RSS_EMPTY=$(rss_mib "$CADDY_PID")
	say "bench: filling BF's store: $SCALE logins of as many users (Caddy RSS ${RSS_EMPTY} MiB)"
	FILL_OUT=$RAW/fill.txt
	"$BIN/fill" -url "http://127.0.0.1:$P_BF/wx/login" -n "$SCALE" -c "$CONNS" >"$FILL_OUT" 2>&1 ||
		{ cat "$FILL_OUT" >&2; die "the fill of BF's store failed"; }
	RSS_FULL=$(rss_mib "$CADDY_PID")
	FILL_LINE="$(sed -n 's/^fill: //p' "$FILL_OUT"); Caddy RSS ${RSS_EMPTY} MiB before, ${RSS_FULL} MiB after"
	say "bench: fill: $FILL_LINE"
fi
TOKEN_B=$(login "$P_B" ok-bench)
TOKEN_BP=$(login "$P_B" ok-benchphone)
TOKEN_BI=$(login "$P_BI" ok-benchidle)
TOKEN_BF=$(login "$P_BF" ok-benchfull) # into the full store: it ends an idle session
resp=$(curl -sS -w '\n%{http_code}' -X POST -H "Authorization: Bearer $TOKEN_BP" -H 'Content-Type: application/json' \
	-d '{"code":"phone-13800138000"}' "http://127.0.0.1:$P_BP/wx/phone") || die "POST /wx/phone failed"
[[ ${resp##*$'\n'} == 200 ]] || die "POST /wx/phone: ${resp//$'\n'/ }"
# W's cookie: a ticket for B's session, handed off to a cookie session
ticket=$(curl -sS -X POST -H "Authorization: Bearer $TOKEN_B" "http://127.0.0.1:$P_W/wx/ticket" | sed -n 's/.*"ticket":"\([^"]*\)".*/\1/p')
[[ -n $ticket ]] || die "POST /wx/ticket on W gave no ticket"
COOKIE_W=$(curl -sS -o /dev/null -D - "http://127.0.0.1:$P_W/wx/web/handoff?ticket=$ticket&next=/" | tr -d '\r' |
	sed -n 's/^[Ss]et-[Cc]ookie: wx_session=\([^;]*\).*/\1/p')
[[ -n $COOKIE_W ]] || die "GET /wx/web/handoff on W set no wx_session cookie"
TOKEN_C=$(curl -sS -X POST "http://127.0.0.1:$P_SESS/issue?openid=obench_sessiond_user_00000001") || die "sessiond /issue failed"
TOKEN_C=${TOKEN_C%$'\n'}
[[ -n $TOKEN_C ]] || die "sessiond /issue gave no token"
if ((REDIS == 1)); then
	TOKEN_R=$(login "$P_R" ok-benchr)
	TOKEN_RC=$(login "$P_RC" ok-benchrc)
fi

# ---------------------------------------------------------------- sanity
PATH_Q=/api/hello
# expect CODE PORT [TOKEN]: the status of GET PATH_Q must be CODE.
expect() {
	local want=$1 port=$2 tok=${3:-} got
	local args=(-sS -o /dev/null -w '%{http_code}')
	if [[ $tok == cookie:* ]]; then
		args+=(-H "Cookie: theme=dark; wx_session=${tok#cookie:}; lang=zh")
	elif [[ -n $tok ]]; then
		args+=(-H "Authorization: Bearer $tok")
	fi
	got=$(curl "${args[@]}" "http://127.0.0.1:$port$PATH_Q") || die "GET :$port$PATH_Q failed"
	[[ $got == "$want" ]] || die "GET :$port$PATH_Q ${tok:+with a token }gave $got, want $want"
}
expect 200 "$P_A" "$TOKEN_B"
expect 200 "$P_B" "$TOKEN_B"
expect 401 "$P_B"
expect 401 "$P_B" "$TOKEN_C"
expect 200 "$P_BP" "$TOKEN_BP"
expect 200 "$P_BI" "$TOKEN_BI"
expect 401 "$P_BI" "$TOKEN_B"
expect 200 "$P_BA" "$TOKEN_B"
expect 200 "$P_BF" "$TOKEN_BF"
expect 401 "$P_BF" "$TOKEN_B"
expect 401 "$P_BA"
expect 200 "$P_W" "cookie:$COOKIE_W"
expect 401 "$P_W" "cookie:$TOKEN_C"
expect 200 "$P_B5" "$TOKEN_B"
expect 401 "$P_B5"
# keys exist only if a block with assertion on made them
curl -sS "http://127.0.0.1:$P_BA/wx/jwks.json" | grep -q '"alg":"ES256"' || die "GET /wx/jwks.json on BA publishes no key: assertion is not on"
expect 403 "$P_BP" "$TOKEN_B"
expect 200 "$P_C" "$TOKEN_C"
expect 401 "$P_C"
expect 401 "$P_C" "$TOKEN_B"
[[ $(curl -sS "http://127.0.0.1:$P_A$PATH_Q") == ok ]] || die "the tiny upstream does not answer ok"
if ((REDIS == 1)); then
	expect 200 "$P_R" "$TOKEN_R"
	expect 401 "$P_R" "$TOKEN_B"
	expect 200 "$P_RC" "$TOKEN_RC"
	expect 401 "$P_RC" "$TOKEN_R"
	# the sessions of R and RC are in Redis, not in Caddy's memory
	for app in "$APP_ID_R" "$APP_ID_RC"; do
		n=$(redis-cli -p "$P_REDIS" --scan --pattern "wxauth:{$app:*}:s:*" | wc -l)
		((n == 1)) || die "Redis holds $n sessions of app $app after one login, want 1 (is the redis option wired to the Redis store?)"
	done
fi

# ---------------------------------------------------------------- wrk
TARGETS=(A B B5 W BI BA BP C)
declare -A PORT=([A]=$P_A [B]=$P_B [B5]=$P_B5 [BI]=$P_BI [BA]=$P_BA [BP]=$P_BP [C]=$P_C [BF]=$P_BF [W]=$P_W)
declare -A TOK=([A]=$TOKEN_B [B]=$TOKEN_B [B5]=$TOKEN_B [BI]=$TOKEN_BI [BA]=$TOKEN_B [BP]=$TOKEN_BP [C]=$TOKEN_C [BF]=$TOKEN_BF [W]=cookie:$COOKIE_W)
declare -A LABEL=(
	[A]="A  reverse_proxy only"
	[B]="B  wechat_auth + reverse_proxy"
	[B5]="B5 wechat_auth, 5 apps in a block"
	[BP]="BP wechat_auth require phone"
	[BI]="BI wechat_auth idle_timeout 30m"
	[BA]="BA wechat_auth assertion on"
	[BF]="BF wechat_auth, store of $SCALE"
	[W]="W  wechat_auth, wx_session cookie"
	[C]="C  forward_auth->sessiond + r_p"
	[R]="R  wechat_auth, Redis + r_p"
	[RC]="RC Redis, near cache off (miss)"
)
if ((REDIS == 1)); then
	# interleaved with the others; R and RC next to A and B
	TARGETS=(A R B B5 W BI BA RC BP C)
	PORT[R]=$P_R PORT[RC]=$P_RC
	TOK[R]=$TOKEN_R TOK[RC]=$TOKEN_RC
fi
if ((SCALE > 0)); then
	# BF right after B (the empty store it is compared with)
	t2=()
	for t in "${TARGETS[@]}"; do
		t2+=("$t")
		if [[ $t == B ]]; then t2+=(BF); fi
	done
	TARGETS=("${t2[@]}")
fi
declare -A RPS P50 P99

# to_ms "1.23ms": a wrk latency in milliseconds.
to_ms() {
	awk -v v="$1" 'BEGIN {
		n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
		if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000; else if (u == "h") n *= 3600000
		printf "%.3f", n }'
}
# field FILE: pieces of a wrk output.
wrk_rps() { awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$1"; }
wrk_pct() { awk -v p="$2" '$1 == p { print $2; exit }' "$1"; }
wrk_non2xx() { awk '/Non-2xx or 3xx responses:/ { print $NF; f = 1 } END { if (!f) print 0 }' "$1"; }
wrk_total() { awk '/ requests in / { print $1; exit }' "$1"; }
wrk_errors() { awk '/Socket errors:/ { sub(/^ *Socket errors: */, ""); print; exit }' "$1"; }

# run_wrk TARGET SECONDS OUTFILE
run_wrk() {
	local t=$1 d=$2 out=$3
	local cred="Authorization: Bearer ${TOK[$t]}"
	if [[ ${TOK[$t]} == cookie:* ]]; then cred="Cookie: theme=dark; wx_session=${TOK[$t]#cookie:}; lang=zh"; fi
	wrk_to "$out" -t"$THREADS" -c"$CONNS" -d"${d}s" --latency \
		-H "$cred" "http://127.0.0.1:${PORT[$t]}$PATH_Q" ||
		{ cat "$out" >&2; die "wrk on target $t failed"; }
	local bad errs
	bad=$(wrk_non2xx "$out")
	errs=$(wrk_errors "$out")
	if [[ $bad != 0 ]]; then say "bench: WARNING: target $t answered $bad non-2xx responses (see $out)"; fi
	if [[ -n $errs ]]; then say "bench: WARNING: target $t socket errors: $errs"; fi
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
say "bench: Caddy on 127.0.0.1:$P_A (A) :$P_B (B) :$P_BP (B-phone) :$P_C (C); fake WeChat :$P_WX, upstream :$P_UP, sessiond :$P_SESS"
if ((REDIS == 1)); then say "bench: Redis targets on :$P_R (R) :$P_RC (RC), redis-server :$P_REDIS"; fi
say "bench: $ROUNDS rounds x ${DURATION}s per target, wrk -t$THREADS -c$CONNS, order ${TARGETS[*]}; load average $LOAD_BEFORE"
if ((WARMUP > 0)); then
	say "bench: warm-up, ${WARMUP}s per target"
	for t in "${TARGETS[@]}"; do run_wrk "$t" "$WARMUP" "$RAW/warmup-$t.txt"; done
fi

for ((r = 1; r <= ROUNDS; r++)); do
	line=""
	for t in "${TARGETS[@]}"; do
		out=$RAW/round$r-$t.txt
		run_wrk "$t" "$DURATION" "$out"
		rps=$(wrk_rps "$out")
		[[ -n $rps ]] || { cat "$out" >&2; die "no Requests/sec in wrk output for $t"; }
		RPS[$t]+="$rps "
		P50[$t]+="$(to_ms "$(wrk_pct "$out" 50%)") "
		P99[$t]+="$(to_ms "$(wrk_pct "$out" 99%)") "
		line+=$(printf '  %s %7s' "$t" "$rps")
	done
	say "$(printf 'round %d/%d req/s:%s' "$r" "$ROUNDS" "$line")"
done

# ---------------------------------------------------------------- login
say "bench: login path, ${LOGIN_DURATION}s: POST /wx/login, a new code per request"
LOGIN_OUT=$RAW/login.txt
wrk_to "$LOGIN_OUT" -t"$THREADS" -c"$CONNS" -d"${LOGIN_DURATION}s" --latency -s "$ROOT/bench/login.lua" \
	"http://127.0.0.1:$P_B/wx/login" || { cat "$LOGIN_OUT" >&2; die "wrk login run failed"; }
LOGIN_RPS=$(wrk_rps "$LOGIN_OUT")
LOGIN_TOTAL=$(wrk_total "$LOGIN_OUT")
LOGIN_BAD=$(wrk_non2xx "$LOGIN_OUT")
LOGIN_STATUSES=$(sed -n 's/^login statuses: //p' "$LOGIN_OUT")
LOGIN_ERRS=$(wrk_errors "$LOGIN_OUT")
LOGIN_P50=$(to_ms "$(wrk_pct "$LOGIN_OUT" 50%)")
LOGIN_P99=$(to_ms "$(wrk_pct "$LOGIN_OUT" 99%)")
[[ -n $LOGIN_RPS && -n $LOGIN_TOTAL ]] || { cat "$LOGIN_OUT" >&2; die "cannot read the login wrk output"; }
LOGIN_SHARE=$(awk -v b="$LOGIN_BAD" -v n="$LOGIN_TOTAL" 'BEGIN { printf "%.2f", n ? 100 * b / n : 0 }')
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
kill -0 "$CADDY_PID" 2>/dev/null || die "caddy died during the benchmark (see $LOGS/caddy.log)"

# ---------------------------------------------------------------- summary
# stats LIST: "median min max"
stats() {
	tr ' ' '\n' <<<"$1" | awk 'NF' | sort -g | awk '{ a[NR] = $1 } END {
		m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
		print m, a[1], a[NR] }'
}
med() { stats "$1" | awk '{ print $1 }'; }
# ratios LIST_NUM LIST_DEN: the per-round ratios.
ratios() {
	paste <(tr ' ' '\n' <<<"$1" | awk 'NF') <(tr ' ' '\n' <<<"$2" | awk 'NF') |
		awk '{ printf "%.4f ", ($2 > 0) ? $1 / $2 : 0 }'
}
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }'; }

declare -A MED
NOISY=()
for t in "${TARGETS[@]}"; do
	read -r m lo hi < <(stats "${RPS[$t]}")
	MED[$t]=$m
	spread=$(awk -v m="$m" -v lo="$lo" -v hi="$hi" 'BEGIN { printf "%.0f", (m > 0) ? 100 * (hi - lo) / m : 0 }')
	if ((spread > 10)); then NOISY+=("$t ±${spread}%"); fi
done

ratio_line() { # NUM DEN
	local rm rr
	rm=$(div "${MED[$1]}" "${MED[$2]}")
	read -r rr rlo rhi < <(stats "$(ratios "${RPS[$1]}" "${RPS[$2]}")")
	printf '%-5s %s   (per-round ratios: median %.2f, range %.2f..%.2f)' "$1/$2" "$rm" "$rr" "$rlo" "$rhi"
}

CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
[[ -n $CPU ]] || CPU=unknown
REV=$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)
WRKV=$(wrk --version 2>&1 | awk 'NR == 1 { print $2 }' || true)

{
	echo
	echo "==================== wechat_auth load benchmark (bench/run.sh) ===================="
	echo "date:     $(date -u '+%Y-%m-%d %H:%M UTC')   commit $REV"
	echo "machine:  $(nproc) cores, $CPU, $(uname -sr)"
	echo "tools:    $(go env GOVERSION), wrk $WRKV; Caddy, wrk and the helpers share the machine"
	echo "load:     loadavg $LOAD_BEFORE before, $LOAD_AFTER after"
	echo "settings: $ROUNDS rounds x ${DURATION}s per target, interleaved ${TARGETS[*]}, wrk -t$THREADS -c$CONNS,"
	echo "          GET $PATH_Q with Authorization: Bearer (W: the wx_session cookie), upstream answers \"ok\""
	echo
	printf '%-33s %9s %17s %9s %9s\n' "target" "req/s" "min..max" "p50 ms" "p99 ms"
	for t in "${TARGETS[@]}"; do
		read -r m lo hi < <(stats "${RPS[$t]}")
		printf '%-33s %9.0f %8.0f..%-8.0f %9.2f %9.2f\n' "${LABEL[$t]}" "$m" "$lo" "$hi" \
			"$(med "${P50[$t]}")" "$(med "${P99[$t]}")"
	done
	echo "(req/s: median of the rounds; p50/p99: median of the rounds' wrk percentiles)"
	echo
	echo "ratios of the medians:"
	echo "  $(ratio_line B A)"
	echo "  $(ratio_line B C)"
	echo "  $(ratio_line W A)"
	echo "  $(ratio_line W B)"
	echo "  $(ratio_line B5 A)"
	echo "  $(ratio_line B5 B)"
	echo "  $(ratio_line BP A)"
	echo "  $(ratio_line BI A)"
	echo "  $(ratio_line BA A)"
	echo "  $(ratio_line BA B)"
	if ((SCALE > 0)); then
		echo "  $(ratio_line BF A)"
		echo "  $(ratio_line BF B)"
		echo "  BF/B  p99 $(div "$(med "${P99[BF]}")" "$(med "${P99[B]}")")   (median p99 of the full store over the empty one's)"
	fi
	if ((REDIS == 1)); then
		echo "  $(ratio_line R A)"
		echo "  $(ratio_line R B)"
		echo "  $(ratio_line RC A)"
		echo "  $(ratio_line RC R)"
	fi
	echo
	if ((SCALE > 0)); then
		echo "fill:     BF: $FILL_LINE; $(rss_mib "$CADDY_PID") MiB at the end"
	fi
	echo "login:    POST /wx/login, new code each (wechat_auth -> fake WeChat), ${LOGIN_DURATION}s, wrk -t$THREADS -c$CONNS"
	echo "          $LOGIN_RPS req/s, p50 $(printf %.2f "$LOGIN_P50") ms, p99 $(printf %.2f "$LOGIN_P99") ms, non-2xx $LOGIN_BAD of $LOGIN_TOTAL ($LOGIN_SHARE%)"
	echo "          statuses: ${LOGIN_STATUSES:-?}${LOGIN_ERRS:+; socket errors: $LOGIN_ERRS}"
	if ((${#NOISY[@]} > 0)); then
		echo
		echo "note:     rounds vary more than 10% for: ${NOISY[*]} (shared or busy machine?)"
	fi
	echo "===================================================================================="
}
