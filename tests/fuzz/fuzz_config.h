// The configuration parser's fuzz check, shared by the libFuzzer target fuzz_config (fuzz_config.cc)
// and by fuzz_replay (replay_main.cc, over tests/fuzz/corpus/config/): arbitrary bytes as the JSON
// text uvmodbus-server reads with --config, through parseServerConfig — parsing and validation only,
// nothing is bound, opened or started. The rule it checks: bad configuration text never crashes and
// is only ever refused with a ConfigError (any other exception escapes and is a finding); an
// accepted configuration has a datastore and at least one server.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "protocols/config/config_error.h"
#include "protocols/config/server_config.h"
#include "reactor/log.h"

namespace modbus::fuzz {

inline void parseConfigText(const std::uint8_t* data, std::size_t size) {
  // Warnings about accepted keys (e.g. ignore_missing_slaves on a serial line) would flood stderr.
  static const bool quiet = (reactor::log::setLevel(reactor::log::Level::Error), true);
  (void)quiet;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    ServerConfig config = parseServerConfig(text);
    if (config.context == nullptr || config.servers.empty()) std::abort();
  } catch (const ConfigError&) {
    // The one way a configuration is refused.
  }
}

}  // namespace modbus::fuzz
