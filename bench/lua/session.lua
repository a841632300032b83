-- Rotates the bench users' session cookies over the requests of each wrk thread;
-- threads use disjoint users. Set by the harness through environment variables:
--   WG_COOKIES  "sid1,sid2,..."      WG_PATHS "path1|path2|..." (%d = a random id)
--   WG_METHOD   GET or POST          WG_BODIES "body1|body2" (alternated, %d as above)
--   WG_ID_MAX   upper bound of %d    WG_COOKIE_NAME
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("thread_index", counter)
  table.insert(threads, thread)
end

local function split(s, sep)
  local out = {}
  for part in string.gmatch(s or "", "([^" .. sep .. "]+)") do table.insert(out, part) end
  return out
end

function init(args)
  local all = split(os.getenv("WG_COOKIES"), ",")
  local thread_count = tonumber(os.getenv("WG_THREADS") or "2")
  cookies = {}
  for i, sid in ipairs(all) do
    if (i - 1) % thread_count == thread_index - 1 then table.insert(cookies, sid) end
  end
  paths = split(os.getenv("WG_PATHS"), "|")
  bodies = split(os.getenv("WG_BODIES"), "|")
  method = os.getenv("WG_METHOD") or "GET"
  id_max = tonumber(os.getenv("WG_ID_MAX") or "1")
  cookie_name = os.getenv("WG_COOKIE_NAME") or "session"
  n = 0
  math.randomseed(os.time() + thread_index)
end

function request()
  n = n + 1
  local users = math.max(#cookies, 1)
  local user = cookies[(n % users) + 1]
  local round = math.floor(n / users)
  local id = math.random(1, id_max)
  local headers = {}
  if user then headers["Cookie"] = cookie_name .. "=" .. user end
  local path = string.format(paths[(round % #paths) + 1], id)
  local body = nil
  if #bodies > 0 then
    -- like then unlike the same post: the pair keeps the table steady
    local post_id = 1 + ((n % users) * 7919 + math.floor(round / 2) * 104729) % id_max
    body = string.format(bodies[(round % #bodies) + 1], post_id)
    headers["Content-Type"] = "application/json"
  end
  return wrk.format(method, path, headers, body)
end
