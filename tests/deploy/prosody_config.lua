-- Reads a Prosody configuration with Prosody's own config parser and prints, for HOST,
-- what mod_limits / mod_limits_exception get from get_option_inherited_set("unlimited_jids")
-- (the host's list plus the global one) and the host's modules_enabled.
--   lua5.4 prosody_config.lua FILE HOST      (needs the Debian prosody package)
package.path = "/usr/lib/prosody/?.lua;" .. package.path
package.cpath = "/usr/lib/prosody/?.so;" .. package.cpath
local configmanager = require "core.configmanager"
local ok, err = configmanager.load(arg[1])
if not ok then
  io.stderr:write("prosody config error: " .. tostring(err) .. "\n")
  os.exit(1)
end
local function each(value, prefix)
  if type(value) == "table" then
    for _, item in ipairs(value) do print(prefix .. " " .. tostring(item)) end
  elseif value ~= nil then
    print(prefix .. " " .. tostring(value))
  end
end
each(configmanager.get("*", "unlimited_jids"), "unlimited")
each(configmanager.get(arg[2], "unlimited_jids"), "unlimited")
each(configmanager.get(arg[2], "modules_enabled"), "module")
