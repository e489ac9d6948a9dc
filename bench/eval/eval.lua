-- eval.lua - the LANGUAGE.md s.1 policy written in Lua, as a team that
-- embeds Lua for its rules would write it; runs on Lua 5.4 and LuaJIT.
-- Same facts, same decisions as eval_hand.c (see README.md).
-- Usage: lua eval.lua FACTS.csv REPEAT DECISIONS_OUT
local facts_path, repeat_n, out_path = arg[1], tonumber(arg[2]), arg[3]

local step_days = {-3, 1, 7, 15, 30, 60}
local step_tone = {1, 1, 2, 3, 4, 0}   -- friendly=1 .. final=4; 0 none

local customers, invoices = {}, {}
local f = assert(io.open(facts_path, "r"))
f:read("*l")  -- header
for line in f:lines() do
  local c, tier, overdue, late, risk, promise, open, limit, inv, dpd, disputed, balance =
    line:match("^([^,]*),([^,]*),([^,]*),([^,]*),([^,]*),([^,]*),([^,]*),([^,]*),([^,]*),([^,]*),([^,]*),([^,]*)$")
  local last = customers[#customers]
  if not last or last.id ~= c then
    last = {id = c, tier = tier, total_overdue = tonumber(overdue), avg_days_late = tonumber(late),
            risk_score = tonumber(risk), promise_active = promise == "1", total_open = tonumber(open),
            credit_limit = limit ~= "" and tonumber(limit) or nil, first = #invoices + 1, n = 0}
    customers[#customers + 1] = last
  end
  invoices[#invoices + 1] = {id = inv, days_past_due = tonumber(dpd), disputed = disputed == "1",
                             balance = tonumber(balance)}
  last.n = last.n + 1
end
f:close()

local function segment_of(c)
  if c.tier == "strategic" or c.total_overdue >= 5000000 then return "strategic" end
  if c.avg_days_late > 20 or c.risk_score >= 0.7 then return "high_risk" end
  return "standard"
end

-- The latest step whose offset is reached and whose guard holds.
local function step_of(c, i)
  if i.disputed or c.promise_active then return nil end
  for k = 6, 1, -1 do
    if step_days[k] <= i.days_past_due and (k ~= 6 or i.balance >= 50000) then return k end
  end
  return nil
end

local seg_of, step_at, tone_at, over = {}, {}, {}, {}
local function decide()
  for ci = 1, #customers do
    local c = customers[ci]
    local seg = segment_of(c)
    seg_of[ci] = seg
    for k = c.first, c.first + c.n - 1 do
      local step = step_of(c, invoices[k])
      local tone = step and step_tone[step] or 0
      if tone > 1 and seg == "strategic" then tone = tone - 1 end
      step_at[k], tone_at[k] = step or false, tone
    end
    over[ci] = c.credit_limit ~= nil and c.total_open > c.credit_limit
  end
end

local t0 = os.clock()
for _ = 1, repeat_n do decide() end
local secs = os.clock() - t0
print(string.format("%.0f", #invoices * repeat_n / secs))

local out = assert(io.open(out_path, "w"))
for ci = 1, #customers do
  local c = customers[ci]
  for k = c.first, c.first + c.n - 1 do
    local s = step_at[k]
    out:write(invoices[k].id, " ", seg_of[ci], " ", s and tostring(step_days[s]) or "none", "\n")
  end
  out:write(c.id, " over_limit ", over[ci] and "1" or "0", "\n")
end
out:close()
