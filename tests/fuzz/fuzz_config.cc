// libFuzzer target for the JSON configuration parser (the check is in fuzz_config.h, which
// fuzz_replay shares). Built with clang -fsanitize=fuzzer by tests/fuzz/run.sh --target config,
// seeded from tests/fuzz/corpus/config/ with the dictionary tests/fuzz/config.dict.
#include <cstddef>
#include <cstdint>

#include "fuzz_config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  modbus::fuzz::parseConfigText(data, size);
  return 0;
}
