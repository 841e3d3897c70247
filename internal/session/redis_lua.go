package session

import (
	"context"
	"crypto/sha1"
	"encoding/hex"

	"github.com/redis/rueidis"
)

// The store's scripts. Each runs in one round trip (EVALSHA, EVAL the
// first time on a node) on the keys of one user, which share a hash slot.
// Times are the Redis server's clock (TIME), so the Caddy instances'
// clocks do not matter. RevokeUser's script also deletes the sessions its
// index names: keys it is not given in KEYS, but always in the slot of the
// keys it is given (Redis Cluster allows that; no cross-slot access ever).
//
// The user record (hash) holds: kn, kp the newest and previous
// session_key (sealed), hn, hp their keyed hashes; pn, pc, pt the bound
// phone, its country code and when it was bound (ms).

// luaPrelude: now (ms, server clock) and extend(key, at), which makes key
// live at least until at.
const luaPrelude = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function extend(key, at)
	local ttl = redis.call('PTTL', key)
	if ttl == -1 or (ttl >= 0 and now + ttl < at) then
		redis.call('PEXPIREAT', key, at)
	end
end
`

// loginScript records a login.
//
//	KEYS: user record, user's index, session
//	ARGV: sealed session_key, its keyed hash, openid, unionid,
//	      session TTL ms, idle timeout ms (0: none), phone TTL ms, index member
//
// The key becomes the newest and the newest before it the previous, unless
// its hash is the newest's (WeChat sent the same key again: nothing
// moves) or there is none (empty: a platform without session keys). The session is the value of the format decodeSession reads,
// with the user's phone if bound less than phone TTL ago; it lives until
// the idle timeout or the session TTL, whichever ends first. Returns
// {phone bound at, phone, country} (all nil without a phone).
var loginScript = newScript(luaPrelude + `
local cur = redis.call('HMGET', KEYS[1], 'kn', 'hn')
if ARGV[2] ~= '' and cur[2] ~= ARGV[2] then
	if cur[1] then
		redis.call('HSET', KEYS[1], 'kp', cur[1], 'hp', cur[2] or '', 'kn', ARGV[1], 'hn', ARGV[2])
	else
		redis.call('HSET', KEYS[1], 'kn', ARGV[1], 'hn', ARGV[2])
		redis.call('HDEL', KEYS[1], 'kp', 'hp')
	end
end
local ph = redis.call('HMGET', KEYS[1], 'pt', 'pn', 'pc')
local tail = '\0\0\0'
if ph[1] and ph[2] and now - tonumber(ph[1]) < tonumber(ARGV[7]) then
	tail = '\0' .. ph[1] .. '\0' .. ph[2] .. '\0' .. (ph[3] or '')
else
	ph = {false, false, false}
end
local exp = now + tonumber(ARGV[5])
local life = tonumber(ARGV[5])
local idle = tonumber(ARGV[6])
if idle > 0 and idle < life then
	life = idle
end
local value = '2\0' .. string.format('%.0f', exp) .. '\0' .. ARGV[3] .. '\0' .. ARGV[4] .. tail
if not redis.call('SET', KEYS[3], value, 'PX', life, 'NX') then
	return redis.error_reply('ERR wechat_auth: token already in use')
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('ZADD', KEYS[2], exp, ARGV[8])
extend(KEYS[2], exp)
extend(KEYS[1], exp)
return ph
`)

// bindPhoneScript binds a phone to the user of a live session.
//
//	KEYS: session, user record
//	ARGV: openid, phone, country, phone TTL ms
//
// Returns 0, writing nothing, when the session is gone or is not the
// openid's; else rewrites the session's phone fields keeping its TTL (so
// it neither revives nor lives longer) and the user's, and returns 1.
var bindPhoneScript = newScript(luaPrelude + `
local v = redis.call('GET', KEYS[1])
if not v then
	return 0
end
local p = {}
local at = 0
for i = 1, 4 do
	at = string.find(v, '\0', at + 1, true)
	if not at then
		return 0
	end
	p[i] = at
end
if string.sub(v, p[2] + 1, p[3] - 1) ~= ARGV[1] then
	return 0
end
local bound = string.format('%.0f', now)
redis.call('SET', KEYS[1], string.sub(v, 1, p[4]) .. bound .. '\0' .. ARGV[2] .. '\0' .. ARGV[3], 'KEEPTTL')
redis.call('HSET', KEYS[2], 'pt', bound, 'pn', ARGV[2], 'pc', ARGV[3])
extend(KEYS[2], now + tonumber(ARGV[4]))
return 1
`)

// revokeScript ends every session of a user.
//
//	KEYS: user's index, user record
//	ARGV: the session key prefix ("wxauth:{<app_id>:<tag>}:s:"), "1" to
//	      forget the user (record too)
//
// Returns how many of the indexed sessions were live (DEL counts only
// keys that exist and have not expired).
var revokeScript = newScript(`
local n = 0
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
for i = 1, #ids do
	n = n + redis.call('DEL', ARGV[1] .. ids[i])
end
redis.call('DEL', KEYS[1])
if ARGV[2] == '1' then
	redis.call('DEL', KEYS[2])
end
return n
`)

// renewScript moves a session's expiry to the idle timeout from now, but
// never past its absolute end; PEXPIREAT on a key that is gone does
// nothing, so a renewal never revives.
//
//	KEYS: session
//	ARGV: idle timeout ms (0: none, the absolute end), absolute end ms
var renewScript = newScript(luaPrelude + `
local at = tonumber(ARGV[2])
local idle = tonumber(ARGV[1])
if idle > 0 and now + idle < at then
	at = now + idle
end
return redis.call('PEXPIREAT', KEYS[1], string.format('%.0f', at))
`)

// script is a Lua script run with EVALSHA (EVAL when the node does not
// know it yet).
type script struct{ body, sha string }

func newScript(body string) *script {
	sum := sha1.Sum([]byte(body))
	return &script{body: body, sha: hex.EncodeToString(sum[:])}
}

// exec runs the script. With sync set (a key of the script's slot), it
// pipelines a PTTL of that key after it, on the same connection, and
// returns once both replies are in: the invalidations the script caused
// for this client's own near cache come before that second reply, and the
// client applies them before it delivers it. So what a store changes, its
// next Get sees, without waiting for anything else.
func (s *script) exec(ctx context.Context, c rueidis.Client, keys, args []string, sync string) rueidis.RedisResult {
	run := func(evalsha bool) rueidis.RedisResult {
		var cmd rueidis.Completed
		if evalsha {
			cmd = c.B().Evalsha().Sha1(s.sha).Numkeys(int64(len(keys))).Key(keys...).Arg(args...).Build()
		} else {
			cmd = c.B().Eval().Script(s.body).Numkeys(int64(len(keys))).Key(keys...).Arg(args...).Build()
		}
		if sync == "" {
			return c.Do(ctx, cmd)
		}
		return c.DoMulti(ctx, cmd, c.B().Pttl().Key(sync).Build())[0]
	}
	res := run(true)
	if err, ok := rueidis.IsRedisErr(res.Error()); ok && err.IsNoScript() {
		res = run(false)
	}
	return res
}
