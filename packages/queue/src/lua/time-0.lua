--[[
  The store's clock in ms.

  Returns now (ms since the epoch, Redis TIME).
]]
--- @include common

return now_ms()
