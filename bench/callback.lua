-- wrk script: POST the pre-generated callback requests, never one twice, and check the replies.
-- Arguments (after `--`): requests file, number of wrk threads, JSON result file.
-- Thread i sends lines i+1, i+1+T, ... so threads share no MsgId; lines are round-robin over
-- users, so with T dividing the user count each user's messages stay on one thread, in order.

local threads = {}
local counter = 0

function setup(thread)
   thread:set("id", counter)
   counter = counter + 1
   table.insert(threads, thread)
end

function init(args)
   local path, nthreads = args[1], tonumber(args[2])
   out = args[3]
   reqs = {}
   local n = 0
   for line in io.lines(path) do
      if n % nthreads == id then
         local target, body = line:match("^([^\t]+)\t(.*)$")
         reqs[#reqs + 1] = wrk.format("POST", target, { ["Content-Type"] = "text/xml; charset=utf-8" }, body)
      end
      n = n + 1
   end
   -- wrk calls request() once on thread 0 to check the script, and sends nothing: give it a copy.
   if id == 0 then table.insert(reqs, 1, reqs[1]) end
   i = 0
   wrapped = 0
   -- Every 2xx answer is sorted by what it says; anything else is an error.
   completed, prompted, encrypted, fixed, busy, other, non2xx = 0, 0, 0, 0, 0, 0, 0
end

function request()
   i = i + 1
   if i > #reqs then
      i = 1
      wrapped = wrapped + 1 -- MsgIds repeat from here: the run needs a bigger file
   end
   return reqs[i]
end

function response(status, headers, body)
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
   elseif body:find("系统繁忙", 1, true) or body:find("还在处理中", 1, true) then
      busy = busy + 1
   elseif body:find("<Encrypt>", 1, true) then
      encrypted = encrypted + 1 -- safe mode: the bot's /metrics say what they were
   elseif body:find("个受理点：", 1, true) then
      completed = completed + 1
   elseif body:find("请发送您的位置", 1, true) then
      prompted = prompted + 1
   elseif body:find("<Content><![CDATA[bench ceiling]]>", 1, true) then
      fixed = fixed + 1
   else
      other = other + 1
   end
end

local function json_number(x)
   return string.format("%d", x)
end

function done(summary, latency, requests)
   local keys = { "completed", "prompted", "encrypted", "fixed", "busy", "other", "non2xx", "wrapped" }
   local totals = {}
   for _, k in ipairs(keys) do totals[k] = 0 end
   for _, t in ipairs(threads) do
      for _, k in ipairs(keys) do totals[k] = totals[k] + t:get(k) end
   end
   local e = summary.errors
   local parts = {
      '"requests": ' .. json_number(summary.requests),
      '"duration_us": ' .. json_number(summary.duration),
      '"latency_p50_us": ' .. json_number(latency:percentile(50)),
      '"latency_p99_us": ' .. json_number(latency:percentile(99)),
      '"latency_max_us": ' .. json_number(latency.max),
      '"socket_errors": {"connect": ' .. e.connect .. ', "read": ' .. e.read .. ', "write": ' .. e.write
         .. ', "timeout": ' .. e.timeout .. '}',
      '"status_errors": ' .. e.status,
   }
   for _, k in ipairs(keys) do parts[#parts + 1] = '"' .. k .. '": ' .. json_number(totals[k]) end
   local f = assert(io.open(threads[1]:get("out"), "w"))
   f:write("{" .. table.concat(parts, ", ") .. "}\n")
   f:close()
end
