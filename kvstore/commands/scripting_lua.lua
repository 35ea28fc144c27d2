-- The sandbox scripts run in (loaded once per Lua runtime by kvstore/commands/scripting.py).
-- It builds what Redis 7.0's script_lua.c builds in C: read-only globals and libraries, the
-- `redis` library, the error handler that tags an error with the script line, `cjson`, `bit`.
-- Read-only: Redis's Lua marks tables read-only inside the VM; here each protected table is an
-- empty proxy (`protect`), and pairs/next/rawget/rawset/setmetatable see through it. The only
-- Python objects a script can reach are the few `redis.*` functions that must be C functions
-- (see below); type/tostring/getmetatable show them as functions, and the runtime's attribute
-- filter refuses any attribute access on them (scripting.py).
local py, pyerror, pytimeup, pybit, version, version_num, null, chunkname = ...

local dbg = debug
local error, type, tostring, next, pairs, ipairs, select, rawget, rawset, getmetatable,
      setmetatable, setfenv, loadstring, xpcall, pcall, unpack, format, byte, concat, floor, huge =
      error, type, tostring, next, pairs, ipairs, select, rawget, rawset, getmetatable,
      setmetatable, setfenv, loadstring, xpcall, pcall, unpack, string.format, string.byte,
      table.concat, math.floor, math.huge
local co_create, co_resume = coroutine.create, coroutine.resume
local collectgarbage = collectgarbage

local HOOK_COUNT = 10000  -- instructions between two looks at the clock
local READONLY = 'Attempt to modify a readonly table'

local env = {}    -- the scripts' globals (behind `genv`, the read-only _G they see)
local genv
local real = {}   -- read-only proxy -> the table it protects
local python = {} -- the Python functions a script can reach -> how tostring shows them

local function pack(...) return {n = select('#', ...), ...} end

local function deny() error(READONLY, 2) end

local function protect(t)
  local proxy = setmetatable({}, {__index = t, __newindex = deny, __metatable = false})
  real[proxy] = t
  return proxy
end

-- Redis's __redis__err__handler: an error becomes {err=..., source=..., line=...}, the line
-- being the script's (a redis.call error is raised from library code: walk up to the script).
local function handler(err)
  dbg.sethook()  -- (a stopped script's hook would raise again in here and after)
  if type(err) == 'userdata' and err ~= null then
    err = pyerror(err)  -- an error raised by redis.call & co, or a Python exception
  elseif type(err) ~= 'table' then
    err = {err = 'ERR ' .. tostring(err)}
  end
  local level = 2
  local info = dbg.getinfo(level, 'Sl')
  while info and info.source ~= chunkname do
    level = level + 1
    info = dbg.getinfo(level, 'Sl')
  end
  if info then
    err.source = info.source
    err.line = info.currentline
    if err.where then  -- a Lua error from a Python function: the position Lua would add
      err.err = 'ERR ' .. info.source:sub(2) .. ':' .. info.currentline .. ': ' .. err.err
    end
  elseif err.where then  -- (the script's frame left by a tail call: no position to add)
    err.err = 'ERR ' .. err.err
  end
  err.where = nil
  return err
end

-- Past the time limit the count hook raises on every instruction, so a script that catches
-- the error with pcall (or in a coroutine) still stops; the handler itself is spared.
local hook
hook = function()
  local killed = pytimeup()
  if killed then
    if dbg.getinfo(2, 'f').func == handler then return end
    dbg.sethook(hook, '', 1)
    error({err = killed})
  end
end

-- The Lua debugger (SCRIPT DEBUG, Redis's LDB): while a session runs (`ldb_on`), the hook
-- reports each line of the script, and every LDB_COUNT instructions its line again, to the
-- session (py_ldb_line, scripting_ldb.py), which stops there or not; it returns the text of an
-- error that ends the script (abort, a protocol error), raised here as a Lua error would be.
local LDB_COUNT = 100000
local ldb_on = false
-- (taken once, as the other Python functions are: looked up in `py` when called, after Lua's
-- collector had run, they could come back as another of its functions)
local py_ldb_line, py_ldb_breakpoint, py_ldb_debug = py.ldb_line, py.ldb_breakpoint, py.ldb_debug
local function ldb_hook(event)
  local info = dbg.getinfo(2, 'Sl')
  if info.source ~= chunkname then return end  -- (only the script's own lines)
  local stop = py_ldb_line(info.currentline, event == 'count')
  if stop then error(stop, 0) end
end

-- As Redis's luaCallFunction: a step of the collector every GC_PERIOD calls, so the heap of
-- a runtime serving many small scripts stays near what it holds (Redis's LUA_GC_CYCLE_PERIOD).
local GC_PERIOD = 50
local calls = 0

-- execute(f, keys, argv, as_function): f runs under the error handler and the time limit,
-- with KEYS and ARGV as globals (a script) or as its arguments (a function, FCALL).
local function execute(f, keys, argv, as_function)
  calls = calls + 1
  if calls == GC_PERIOD then
    collectgarbage('step', GC_PERIOD)
    calls = 0
  end
  if not as_function then
    rawset(env, 'KEYS', keys)
    rawset(env, 'ARGV', argv)
  end
  if ldb_on then
    dbg.sethook(ldb_hook, 'l', LDB_COUNT)
  else
    dbg.sethook(hook, '', HOOK_COUNT)
  end
  local result
  if as_function then
    result = {xpcall(function() return f(keys, argv) end, handler)}
  else
    result = {xpcall(f, handler)}
  end
  dbg.sethook()
  return result[1], result[2]
end

-- run(f, as_function, numkeys, key..., arg...): KEYS and ARGV built here, cheaper than two
-- tables built from Python (which `execute` takes for calls with thousands of arguments).
local function run(f, as_function, numkeys, ...)
  local keys, argv = {...}, {}
  for i = numkeys + 1, select('#', ...) do
    argv[i - numkeys] = keys[i]
    keys[i] = nil
  end
  return execute(f, keys, argv, as_function)
end

-- Lua 5.1 runs bytecode unchecked: refusing binary chunks keeps scripts inside the VM.
local function safe_loadstring(s, name)
  if type(s) == 'string' and byte(s, 1) == 27 then
    return nil, 'loading binary chunks is not allowed'
  end
  local f, e = loadstring(s, name)
  if f then setfenv(f, genv) end
  return f, e
end

local function safe_load(reader, name)
  if type(reader) == 'string' then return safe_loadstring(reader, name) end
  local parts = {}
  while true do
    local piece = reader()
    if piece == nil or piece == '' then break end
    parts[#parts + 1] = piece
  end
  return safe_loadstring(concat(parts), name)
end

local function compile(body)
  local f, e = loadstring(body, chunkname)
  if f then setfenv(f, genv) end
  return f, e
end

-- The functions written in Python are Python callables, C functions to Lua, so the script's
-- frame stays on the stack under them (a Lua function in `return redis.call(...)` would be a
-- tail call, and its error could not name the script line). The error they raise reaches a
-- script's pcall as its text, as Redis's pcall gives it.
local redis = {}
for _, name in ipairs({'call', 'pcall', 'log', 'sha1hex', 'setresp', 'set_repl',
                       'acl_check_cmd'}) do
  redis[name] = py[name]
  python[py[name]] = tostring(function() end)
end
redis.error_reply = function(...)
  local msg = ...
  if select('#', ...) ~= 1 or type(msg) ~= 'string' then
    return {err = 'ERR wrong number or type of arguments'}
  end
  -- luaPushErrorBuff: "-CODE text" keeps its code, a message without one gets ERR
  if byte(msg, 1) == 45 then msg = msg:sub(2) end
  if not msg:find(' ', 1, true) then msg = 'ERR ' .. msg end
  return {err = msg}
end
redis.status_reply = function(...)
  local msg = ...
  if select('#', ...) ~= 1 or type(msg) ~= 'string' then
    return {err = 'ERR wrong number or type of arguments'}
  end
  return {ok = msg}
end
redis.replicate_commands = function() return true end
-- A value as the debugger shows it (Redis's ldbCatStackValueRec): strings quoted as
-- sdscatrepr quotes them, numbers by %g, tables as {1; 2} or {["k"]=v}.
local REPR = {['\\'] = '\\\\', ['"'] = '\\"', ['\n'] = '\\n', ['\r'] = '\\r',
              ['\t'] = '\\t', ['\a'] = '\\a', ['\b'] = '\\b'}
local function quoted(s)
  return '"' .. s:gsub('[%c"\\\128-\255]', function(c)
    return REPR[c] or format('\\x%02x', byte(c))
  end) .. '"'
end
local LDB_MAX_DEPTH = 10  -- (LUA_MINSTACK / 2)
local function ldb_repr(v, depth)
  if depth == LDB_MAX_DEPTH then return '<max recursion level reached! Nested table?>' end
  depth = depth + 1
  local t = type(v)
  if python[v] then
    return '"function@' .. python[v]:match('0x%x+') .. '"'
  elseif t == 'string' then
    return quoted(v)
  elseif t == 'boolean' then
    return v and 'true' or 'false'
  elseif t == 'number' then
    return format('%g', v)
  elseif t == 'nil' then
    return 'nil'
  elseif t == 'table' then
    local items, pairs_, array, expected = {}, {}, true, 1
    for k, x in next, real[v] or v do
      if array and (type(k) ~= 'number' or k ~= expected) then array = false end
      items[#items + 1] = ldb_repr(x, depth)
      pairs_[#pairs_ + 1] = '[' .. ldb_repr(k, depth) .. ']=' .. ldb_repr(x, depth)
      expected = expected + 1
    end
    return '{' .. concat(array and items or pairs_, '; ') .. '}'
  end
  return '"' .. (t == 'userdata' and v == null and 'light-userdata' or t) .. '@'
         .. (tostring(v):match('0x%x+') or '') .. '"'
end

redis.breakpoint = function()
  if not ldb_on then return false end
  py_ldb_breakpoint()
  return true
end
redis.debug = function(...)
  if not ldb_on then return end
  local parts = {}
  for i = 1, select('#', ...) do parts[i] = ldb_repr((select(i, ...)), 0) end
  py_ldb_debug(concat(parts, ', '))
end
redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING = 0, 1, 2, 3
redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL =
  0, 1, 2, 2, 3
redis.REDIS_VERSION, redis.REDIS_VERSION_NUM = version, version_num

-- cjson (lua-cjson 2.1 as Redis bundles it): encode walks tables with next(), as the C
-- library does, so keys come out in the same order; decode is Python's json (scripting.py).
-- Its settings (encode_max_depth() & co.) last until SCRIPT FLUSH, as the module's do in
-- Redis; cjson.new() gives a module with settings of its own.
local INT_MAX = 2147483647

local function cjson_settings()
  return {sparse_convert = 0, sparse_ratio = 2, sparse_safe = 10, encode_max_depth = 1000,
          decode_max_depth = 1000, precision = 14, keep_buffer = 1, encode_invalid = 0,
          decode_invalid = 1}
end

local escapes = {['"'] = '\\"', ['\\'] = '\\\\', ['/'] = '\\/', ['\b'] = '\\b',
                 ['\f'] = '\\f', ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t'}
for i = 0, 31 do
  local c = string.char(i)
  if not escapes[c] then escapes[c] = format('\\u%04x', i) end
end
escapes['\127'] = '\\u007f'

local function number_text(x, cfg)
  if x ~= x or x == huge or x == -huge then
    if cfg.encode_invalid == 0 then
      error('Cannot serialise number: must not be NaN or Inf', 0)
    elseif cfg.encode_invalid == 2 then
      return 'null'
    end
    return x ~= x and 'nan' or (x > 0 and 'inf' or '-inf')
  end
  return format('%.' .. cfg.precision .. 'g', x)
end

local encode_value
local function encode_table(t, depth, out, cfg)
  if depth > cfg.encode_max_depth then
    error('Cannot serialise, excessive nesting (' .. depth .. ')', 0)
  end
  local max, count, array = 0, 0, true
  for k in next, t do
    if type(k) == 'number' and k > 0 and k == floor(k) then
      if k > max then max = k end
      count = count + 1
    else
      array = false
      break
    end
  end
  if array and max > 0 and cfg.sparse_ratio > 0 and max > count * cfg.sparse_ratio
      and max > cfg.sparse_safe then
    if cfg.sparse_convert == 0 then
      error('Cannot serialise table: excessively sparse array', 0)
    end
    array = false  -- (encoded as an object)
  end
  if array and max > 0 then
    out[#out + 1] = '['
    for i = 1, max do
      if i > 1 then out[#out + 1] = ',' end
      encode_value(t[i], depth + 1, out, cfg)
    end
    out[#out + 1] = ']'
    return
  end
  out[#out + 1] = '{'
  local first = true
  for k, v in next, t do
    local kt = python[k] and 'function' or type(k)
    if kt ~= 'string' and kt ~= 'number' then  -- (lua-cjson names the key's type)
      error('Cannot serialise ' .. kt .. ': table key must be a number or string', 0)
    end
    if not first then out[#out + 1] = ',' end
    first = false
    out[#out + 1] = '"' .. (kt == 'number' and number_text(k, cfg)
                            or (k:gsub('[%c"\\/\127]', escapes))) .. '":'
    encode_value(v, depth + 1, out, cfg)
  end
  out[#out + 1] = '}'
end

encode_value = function(v, depth, out, cfg)
  local t = python[v] and 'function' or type(v)  -- (a library function is one to a script)
  if t == 'string' then
    out[#out + 1] = '"' .. v:gsub('[%c"\\/\127]', escapes) .. '"'
  elseif t == 'number' then
    out[#out + 1] = number_text(v, cfg)
  elseif t == 'boolean' then
    out[#out + 1] = v and 'true' or 'false'
  elseif t == 'nil' or v == null then
    out[#out + 1] = 'null'
  elseif t == 'table' then
    encode_table(v, depth, out, cfg)
  else
    error('Cannot serialise ' .. t .. ': type not supported', 0)
  end
end

local function encode(v, cfg)
  local out = {}
  encode_value(v, 1, out, cfg)
  return concat(out)
end

-- The settings functions, with lua-cjson's argument checks and texts (json_integer_option's
-- range error names argument #1 whichever it is, as the C does).
local function check_count(name, n, most)
  if n > most then
    error(format("bad argument #%d to '%s' (found too many arguments)", most + 1, name), 3)
  end
end

local function int_option(name, index, v, min, most, current)
  if v == nil then return current end
  local n = tonumber(v)
  if n == nil or (type(v) ~= 'number' and type(v) ~= 'string') then
    error(format("bad argument #%d to '%s' (number expected, got %s)", index, name,
                 v == nil and 'no value' or type(v)), 3)
  end
  n = n >= 0 and floor(n) or -floor(-n)  -- (lua_tointeger truncates)
  if n < min or n > most then
    error(format("bad argument #1 to '%s' (expected integer between %d and %d)", name, min,
                 most), 3)
  end
  return n
end

local ON_OFF = {'off', 'on'}
local function enum_option(name, index, v, options, current)
  if v == nil then return current end
  if type(v) == 'boolean' then return v and 1 or 0 end
  if type(v) ~= 'string' and type(v) ~= 'number' then
    error(format("bad argument #%d to '%s' (string expected, got %s)", index, name, type(v)), 3)
  end
  for i, option in ipairs(options) do
    if option == tostring(v) then return i - 1 end
  end
  error(format("bad argument #%d to '%s' (invalid option '%s')", index, name, tostring(v)), 3)
end

local function enum_value(setting, options)
  if setting <= 1 then return setting == 1 end
  return options[setting + 1]
end

local function cjson_module(cfg, encode_fn, decode_fn)
  local m = {null = null, encode = encode_fn, decode = decode_fn}
  m.encode_sparse_array = function(...)
    local n, convert, ratio, safe = select('#', ...), ...
    check_count('encode_sparse_array', n, 3)
    cfg.sparse_convert = enum_option('encode_sparse_array', 1, convert, ON_OFF,
                                     cfg.sparse_convert)
    cfg.sparse_ratio = int_option('encode_sparse_array', 2, ratio, 0, INT_MAX, cfg.sparse_ratio)
    cfg.sparse_safe = int_option('encode_sparse_array', 3, safe, 0, INT_MAX, cfg.sparse_safe)
    return cfg.sparse_convert == 1, cfg.sparse_ratio, cfg.sparse_safe
  end
  for name, field in pairs({encode_max_depth = 'encode_max_depth',
                            decode_max_depth = 'decode_max_depth'}) do
    m[name] = function(...)
      check_count(name, select('#', ...), 1)
      cfg[field] = int_option(name, 1, (...), 1, INT_MAX, cfg[field])
      return cfg[field]
    end
  end
  m.encode_number_precision = function(...)
    check_count('encode_number_precision', select('#', ...), 1)
    cfg.precision = int_option('encode_number_precision', 1, (...), 1, 14, cfg.precision)
    return cfg.precision
  end
  for name, spec in pairs({encode_keep_buffer = {'keep_buffer', ON_OFF},
                           encode_invalid_numbers = {'encode_invalid', {'off', 'on', 'null'}},
                           decode_invalid_numbers = {'decode_invalid', ON_OFF}}) do
    local field, options = spec[1], spec[2]
    m[name] = function(...)
      check_count(name, select('#', ...), 1)
      cfg[field] = enum_option(name, 1, (...), options, cfg[field])
      return enum_value(cfg[field], options)
    end
  end
  m.new = function()
    local own = cjson_settings()
    return cjson_module(own, function(...) return py.encode_with(own, ...) end,
                        function(...) return py.decode_with(own, ...) end)
  end
  return m
end

local cjson_cfg = cjson_settings()
local cjson = cjson_module(cjson_cfg, py.encode, py.decode)
python[py.encode] = tostring(function() end)
python[py.decode] = tostring(function() end)

-- cmsgpack (lua-cmsgpack 0.4): Python's (lua_msgpack.py), by the same rules.
local cmsgpack = {}
for _, name in ipairs({'pack', 'unpack', 'unpack_one', 'unpack_limit'}) do
  cmsgpack[name] = py[name]
  python[py[name]] = tostring(function() end)
end

-- struct (Roberto Ierusalimschy's): Python's too (lua_struct.py).
local struct = {pack = py.struct_pack, unpack = py.struct_unpack, size = py.struct_size}
for _, f in pairs(struct) do python[f] = tostring(function() end) end

-- bit (LuaBitOp): the arithmetic is Python's (pybit(name, ...)), on 32-bit integers.
local bit = {}
for _, name in ipairs({'tobit', 'tohex', 'bnot', 'band', 'bor', 'bxor', 'lshift', 'rshift',
                       'arshift', 'rol', 'ror', 'bswap'}) do
  bit[name] = function(...)
    local ok, v = pybit(name, ...)
    if not ok then error(v, 2) end
    return v
  end
end

-- Coroutines get the time limit's hook (debug.sethook is per coroutine).
local function create(f)
  local co = co_create(f)
  dbg.sethook(co, hook, '', HOOK_COUNT)
  return co
end
local coroutine_lib = {}
for name, f in pairs(coroutine) do coroutine_lib[name] = f end
coroutine_lib.create = create
coroutine_lib.wrap = function(f)
  local co = create(f)
  return function(...)
    local r = pack(co_resume(co, ...))
    if r[1] then return unpack(r, 2, r.n) end
    error(r[2], type(r[2]) == 'string' and 2 or 0)
  end
end

-- Redis's pcall: an error table's text, not the table.
local function redis_pcall(...)
  local r = pack(pcall(...))
  if r[1] then return unpack(r, 1, r.n) end
  local e = r[2]
  if type(e) == 'userdata' and e ~= null then
    e = pyerror(e).err
  elseif type(e) == 'table' then
    local text = e.err
    if type(text) == 'string' or type(text) == 'number' then e = text end
  end
  return false, e
end

-- The globals scripts see (Redis 7.0's set).
for _, name in ipairs({'assert', 'collectgarbage', 'error', 'gcinfo', 'ipairs', 'rawequal',
                       'select', 'tonumber', 'unpack', 'xpcall', '_VERSION'}) do
  env[name] = _G[name]
end
env.string, env.table, env.math = protect(string), protect(table), protect(math)
env.coroutine = protect(coroutine_lib)
env.redis, env.cjson, env.bit = protect(redis), protect(cjson), protect(bit)
env.cmsgpack, env.struct = protect(cmsgpack), protect(struct)
env.load, env.loadstring, env.pcall = safe_load, safe_loadstring, redis_pcall
env.__redis__err__handler = handler
-- These check their table argument themselves: the error of the builtin they call would name
-- this chunk's line, where Redis's names the script's.
local function need_table(name, n, t)
  if type(t) ~= 'table' then
    error(format("bad argument #1 to '%s' (table expected, got %s)", name,
                 n == 0 and 'no value' or type(t)), 3)
  end
end
env.pairs = function(...)
  local t = ...
  need_table('pairs', select('#', ...), t)
  local r = real[t]
  if r then return next, r, nil end
  return pairs(t)
end
env.next = function(...)
  local t, k = ...
  need_table('next', select('#', ...), t)
  return next(real[t] or t, k)
end
env.rawget = function(...)
  local t, k = ...
  need_table('rawget', select('#', ...), t)
  return rawget(real[t] or t, k)
end
env.rawset = function(...)
  local t, k, v = ...
  need_table('rawset', select('#', ...), t)
  if real[t] then error(READONLY, 0) end
  return rawset(t, k, v)
end
env.setmetatable = function(...)
  local t, mt = ...
  need_table('setmetatable', select('#', ...), t)
  if mt ~= nil and type(mt) ~= 'table' then
    error("bad argument #2 to 'setmetatable' (nil or table expected)", 2)
  end
  if real[t] then error(READONLY, 0) end
  return setmetatable(t, mt)
end
local globals_mt  -- what getmetatable(_G) gives: a read-only view of its __index, as Redis
env.getmetatable = function(...)
  local o = ...
  if select('#', ...) == 0 then error("bad argument #1 to 'getmetatable' (value expected)", 2) end
  if o == genv then return globals_mt end
  if python[o] or real[o] then return nil end  -- as Redis: only _G has one
  return getmetatable(o)
end
env.type = function(o)
  if python[o] then return 'function' end
  return type(o)
end
env.tostring = function(o)
  return python[o] or tostring(o)
end
setmetatable(env, {__index = function(_, k)
  error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
end})
genv = protect(env)
env._G = genv
globals_mt = protect(getmetatable(env))

-- Strings index the protected string library, and their metatable is read-only too.
local string_mt = getmetatable('')
string_mt.__index = env.string
string_mt.__metatable = protect({__index = env.string})

-- FUNCTION LOAD: the library's code runs with a `redis` of its own (register_function, log and
-- the constants; anything else is a missing global), and returns what it registered:
-- {{name, callback, flags, description}, ...}, or (nil, error table).
local FLAGS = {['no-writes'] = true, ['allow-oom'] = true, ['allow-stale'] = true,
               ['no-cluster'] = true, ['allow-cross-slot-keys'] = true}
local registered

local function valid_name(name)
  return #name > 0 and not name:find('[^%w_]')
end

local function register_function(...)
  if registered == nil then  -- reached later, through a reference the library kept
    error({err = 'ERR redis.register_function can only be called on FUNCTION LOAD command'})
  end
  local n = select('#', ...)
  local name, callback, flags, description
  if n == 1 and type((...)) ~= 'table' then
    error({err = 'ERR calling redis.register_function with a single argument is only '
                 .. 'applicable to Lua table (representing named arguments).'})
  elseif n == 1 then
    for k, v in next, (...) do
      if k == 'function_name' then
        if type(v) ~= 'string' then
          error({err = 'ERR function_name argument given to redis.register_function must be a '
                       .. 'string'})
        end
        name = v
      elseif k == 'callback' then
        if type(v) ~= 'function' then
          error({err = 'ERR callback argument given to redis.register_function must be a '
                       .. 'function'})
        end
        callback = v
      elseif k == 'description' then
        if type(v) ~= 'string' then
          error({err = 'ERR description argument given to redis.register_function must be a '
                       .. 'string'})
        end
        description = v
      elseif k == 'flags' then
        if type(v) ~= 'table' then
          error({err = 'ERR flags argument to redis.register_function must be a table '
                       .. 'representing function flags'})
        end
        flags = {}
        for _, flag in ipairs(v) do
          if type(flag) ~= 'string' or not FLAGS[flag] then
            error({err = 'ERR unknown flag given'})
          end
          flags[#flags + 1] = flag
        end
      else
        error({err = 'ERR unknown argument given to redis.register_function'})
      end
    end
    if name == nil then
      error({err = 'ERR redis.register_function must get a function name argument'})
    end
    if callback == nil then
      error({err = 'ERR redis.register_function must get a callback argument'})
    end
  elseif n == 2 then
    name, callback = ...
    if type(name) ~= 'string' and type(name) ~= 'number' then
      error({err = 'ERR first argument to redis.register_function must be a string'})
    end
    name = tostring(name)
    if type(callback) ~= 'function' then
      error({err = 'ERR second argument to redis.register_function must be a function'})
    end
  else
    error({err = 'ERR wrong number of arguments to redis.register_function'})
  end
  if not valid_name(name) then  -- (Redis 7.0 says "Library" here too)
    error({err = 'ERR Library names can only contain letters, numbers, or underscores(_) and '
                 .. 'must be at least one character long'})
  end
  registered[#registered + 1] = {name, callback, flags or {}, description}
end

local load_redis = {register_function = register_function, log = redis.log,
                    LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
                    REDIS_VERSION = version, REDIS_VERSION_NUM = version_num}
setmetatable(load_redis, getmetatable(env))  -- a missing field is an error, as a global is
-- While a library loads, `redis` is all its globals hold (Redis's LIBRARY_API_NAME table):
-- the scripts' _G looks its names up here instead of in `env`. Its functions keep that same
-- _G, so when they run later they see every global.
local load_globals = setmetatable({redis = protect(load_redis)}, getmetatable(env))
local genv_mt = dbg.getmetatable(genv)

local function load_library(f)
  registered = {}
  genv_mt.__index = load_globals
  dbg.sethook(hook, '', HOOK_COUNT)
  local ok, e = xpcall(f, handler)
  dbg.sethook()
  genv_mt.__index = env
  local out = registered
  registered = nil
  if not ok then return nil, e end
  return out, nil
end

-- The debugger's views of the stopped script, for the session (called from inside its hook):
-- only the script's own frames count, innermost first.
local function script_levels()
  local levels, level = {}, 3  -- (past this function and its caller)
  while true do
    local info = dbg.getinfo(level, 'S')
    if not info then return levels end
    if info.source == chunkname then levels[#levels + 1] = level - 1 end
    level = level + 1
  end
end

local ldb = {}
function ldb.on(on) ldb_on = on end

-- "print": every local of the innermost frame, or the first local named `name` from the
-- innermost frame out (then the globals KEYS and ARGV): log lines.
function ldb.print(name)
  local levels = script_levels()
  local out = {}
  if name == nil then
    local level = levels[1]
    for i = 1, level and math.huge or 0 do
      local var, v = dbg.getlocal(level, i)
      if not var then break end
      if not var:find('(*temporary)', 1, true) then
        out[#out + 1] = '<value> ' .. var .. ' = ' .. ldb_repr(v, 0)
      end
    end
    if #out == 0 then out[1] = 'No local variables in the current context.' end
    return out
  end
  for _, level in ipairs(levels) do
    for i = 1, math.huge do
      local var, v = dbg.getlocal(level, i)
      if not var then break end
      if var == name then return {'<value> ' .. ldb_repr(v, 0)} end
    end
  end
  if name == 'KEYS' or name == 'ARGV' then return {'<value> ' .. ldb_repr(rawget(env, name), 0)} end
  return {'No such variable.'}
end

-- "trace": {label, line} for each frame of the script.
function ldb.trace()
  local out = {}
  for i, level in ipairs(script_levels()) do
    local info = dbg.getinfo(level, 'nl')
    out[#out + 1] = {(i == 1 and 'In ' or 'From ') .. (info.name or 'top level') .. ':',
                     info.currentline}
  end
  return out
end

-- "eval": the code as an expression, else as a statement, run with the scripts' globals.
function ldb.eval(code)
  local f = loadstring('return ' .. code, '@ldb_eval')
  if not f then
    local e
    f, e = loadstring(code, '@ldb_eval')
    if not f then return '<error> ' .. e end
  end
  setfenv(f, genv)
  local r = pack(pcall(f))
  if not r[1] then return '<error> ' .. tostring(r[2]) end
  return '<retval> ' .. ldb_repr(r[2], 0)
end

collectgarbage()
return compile, run, encode, execute, load_library, ldb, cjson_cfg
