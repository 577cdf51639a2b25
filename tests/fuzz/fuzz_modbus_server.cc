// libFuzzer target: arbitrary bytes through a framer's decode loop, the PDU decoder and execution
// against a datastore — the server's whole request path minus the socket. The first input byte picks
// the framer (MBAP, RTU, ASCII; 0xF0 and above: the bare-PDU framing of pymodbus 2.x-3.7 TLS peers,
// one PDU per TLS record) and how the rest is split into reads (for bare PDUs: into records); the invariants below are what
// "bad input never crashes the server and never loses stored data" means byte by byte.
// Built with clang -fsanitize=fuzzer by tests/fuzz/run.sh; replayed over the corpus by fuzz_replay
// in every normal build (tests/fuzz/replay_main.cc). Compiled with UVMODBUS_FUZZ_FRAMER=<selector>
// (tests/fuzz/CMakeLists.txt: fuzz_mbap, fuzz_rtu, fuzz_ascii, fuzz_bare_pdu) it fuzzes that one
// decoder: the first byte is then ignored, so an input it finds replays here once that byte is set to
// the selector (0 MBAP, 1 RTU, 2 ASCII, 0xF0 bare PDU).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>

#include "datastore/device_context.h"
#include "datastore/sequential_data_block.h"
#include "datastore/server_context.h"
#include "datastore/sparse_data_block.h"
#include "framers/buffer.h"
#include "framers/framer_type.h"
#include "framers/rtu_framer.h"
#include "framers/bare_pdu_framer.h"
#include "protocols/application/request_processor.h"

namespace {

using namespace modbus;

// Unit 1: sequential tables of 100 (registers hold i); unit 2: sparse registers at 10..19.
std::shared_ptr<ServerContext> makeContext() {
  std::vector<std::uint16_t> regs(100);
  for (std::size_t i = 0; i < regs.size(); ++i) regs[i] = static_cast<std::uint16_t>(i);
  DeviceTables t;
  t.coils = SequentialDataBlock<bool>::create(0, 100);
  t.discreteInputs = SequentialDataBlock<bool>::create(0, 100);
  t.holdingRegisters = std::make_shared<SequentialDataBlock<std::uint16_t>>(0, regs);
  t.inputRegisters = std::make_shared<SequentialDataBlock<std::uint16_t>>(0, regs);
  std::map<std::uint16_t, std::uint16_t> sparse;
  for (std::uint16_t a = 10; a < 20; ++a) sparse[a] = a;
  DeviceTables s;
  s.holdingRegisters = std::make_shared<SparseDataBlock<std::uint16_t>>(sparse);
  auto one = std::make_shared<DeviceContext>(t);
  // The device functions' state (issue 3): a file, a FIFO, identification needing several PDUs.
  one->files().addFile(1, 20);
  one->fifos().addQueue(5, {1, 2, 3});
  one->identity().setVendorName("fuzz");
  one->identity().setProductName("target");
  one->identity().set(0x80, std::string(200, 'a'));
  one->identity().set(0x81, std::string(200, 'b'));
  one->control().setServerId({0x42});
  return ServerContext::multiple({{1, one}, {2, std::make_shared<DeviceContext>(s)}});
}

void check(bool ok) {
  if (!ok) std::abort();
}

// The protocol's loop (protocols/serving/modbus_tcp_protocol.cc), over one read of bytes.
void feed(Framer& framer, Buffer& input, std::span<const std::uint8_t> chunk, RequestProcessor& processor,
          Buffer& output) {
  input.append(chunk);
  for (int guard = 0; guard < 100000 && input.readableBytes() > 0; ++guard) {
    auto view = input.readable();
    DecodeResult r = framer.decode(view);
    if (r.status == DecodeStatus::NeedMore) return;
    if (r.status == DecodeStatus::Fatal) {
      input.retrieveAll();
      return;
    }
    check(r.consumed >= 1 && r.consumed <= view.size());
    if (r.status == DecodeStatus::Frame) {
      check(!r.pdu.empty() && r.pdu.size() <= kMaxPduSize);
      auto response = framer.beginFrame(output, r.header);
      std::size_t n = processor.process(r.header.unitId, r.pdu, response);
      check(n <= response.size());
      if (n > 0) {
        // Every answer is a normal response with the request's function code or its exception.
        check(response[0] == r.pdu[0] || (response[0] == (r.pdu[0] | 0x80) && n == 2));
        framer.commitFrame(output, n);
      }
    }
    input.retrieve(r.consumed);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  static auto context = makeContext();
  RequestProcessor processor(context);
  // Each input starts from power-up diagnostics: FC 8/04 in one input must not silence the next.
  for (std::uint8_t id : context->unitIds()) context->find(id)->control().reset();
  const FramerType types[] = {FramerType::Socket, FramerType::Rtu, FramerType::Ascii};
#ifdef UVMODBUS_FUZZ_FRAMER
  const std::uint8_t selector = UVMODBUS_FUZZ_FRAMER;
#else
  const std::uint8_t selector = data[0];
#endif
  std::unique_ptr<Framer> framer =
      selector >= 0xF0 ? std::make_unique<BarePduFramer>(1) : makeFramer(types[selector % 3]);
  std::size_t step = 1 + data[1] % 64;  // read size: 1..64 bytes
  Buffer input;
  Buffer output;
  std::span<const std::uint8_t> rest(data + 2, size - 2);
  while (!rest.empty()) {
    auto chunk = rest.first(std::min(step, rest.size()));
    feed(*framer, input, chunk, processor, output);
    rest = rest.subspan(chunk.size());
    output.retrieveAll();
  }
  if (framer->framesEndAtGaps()) {
    framer->markFrameGap();
    feed(*framer, input, {}, processor, output);
  }
  // Stored data is never lost to garbage: input registers are read-only on the wire.
  auto* device = context->find(1);
  check(device != nullptr);
  auto values = device->inputRegisters()->getValues(0, 100);
  for (std::size_t i = 0; i < values.size(); ++i) check(values[i] == i);
  return 0;
}
