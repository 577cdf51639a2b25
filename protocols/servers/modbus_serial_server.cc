// ModbusSerialServer (open, reopen with back-off, shutdown) and StartSerialServer.
#include "protocols/servers/modbus_serial_server.h"

#include <algorithm>
#include <charconv>
#include <stdexcept>

#include "reactor/endpoints.h"
#include "reactor/log.h"

namespace modbus {

namespace {

bool parseFlag(const reactor::EndpointDescription& desc, const std::string& key, bool fallback) {
  if (!desc.has(key)) return fallback;
  const std::string v = desc.get(key);
  if (v == "1" || v == "true" || v == "yes" || v == "on") return true;
  if (v == "0" || v == "false" || v == "no" || v == "off") return false;
  throw reactor::EndpointError("endpoint field '" + key + "' must be a boolean (1/0), got '" + v + "'");
}

std::vector<std::uint8_t> parseUnits(const std::string& text) {
  std::vector<std::uint8_t> ids;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    int value = -1;
    auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
    if (item.empty() || ec != std::errc() || ptr != item.data() + item.size() || value < 1 || value > 255) {
      throw reactor::EndpointError("endpoint field 'units' must list unit ids 1..255 separated by commas, got '" +
                                   text + "'");
    }
    ids.push_back(static_cast<std::uint8_t>(value));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return ids;
}

/// Seconds, 0.01..3600: the wait before the first reopen of a port that went away.
double parseReopenDelay(const std::string& text) {
  double value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || !(value >= 0.01 && value <= 3600)) {
    throw reactor::EndpointError("endpoint field 'reopen_delay' must be seconds from 0.01 to 3600, got '" + text + "'");
  }
  return value;
}

/// On a serial line a missing unit is always silence, and the protocol handles broadcasts itself.
ProcessorOptions serialProcessorOptions(const SerialServerOptions& options) {
  ProcessorOptions p;
  p.ignoreMissingSlaves = true;
  p.broadcastEnable = false;
  p.stateChangingDiagnostics = options.stateChangingDiagnostics;
  return p;
}

void refuseMbapFraming(FramerType framer) {
  if (framer == FramerType::Socket || framer == FramerType::MbapInTls) {
    throw reactor::EndpointError("the " + std::string(framerTypeName(framer)) +
                                 " framer (MBAP) cannot run on a serial line: use framer rtu (the default) or ascii");
  }
}

}  // namespace

SerialServerEndpoint parseSerialServerEndpoint(std::string_view endpoint, const SerialLineOptions& defaults) {
  reactor::EndpointDescription desc = reactor::parseEndpoint(endpoint);
  SerialServerEndpoint out;
  out.line = defaults;
  if (desc.has("framer")) {
    auto f = framerTypeFromName(desc.get("framer"));
    if (!f) throw reactor::EndpointError("unknown framer '" + desc.get("framer") + "' (rtu or ascii on a serial line)");
    out.line.framer = *f;
  }
  refuseMbapFraming(out.line.framer);
  if (desc.has("units")) out.line.unitIds = parseUnits(desc.get("units"));
  out.line.dropLocalEcho = parseFlag(desc, "echo", out.line.dropLocalEcho);
  out.line.enforceT15 = parseFlag(desc, "t15", out.line.enforceT15);
  out.line.waitT35BeforeReply = parseFlag(desc, "turnaround", out.line.waitT35BeforeReply);
  if (desc.has("latency")) out.line.latency = static_cast<double>(desc.getInt("latency", 0, 0, 1000)) / 1000.0;
  if (desc.has("reopen_delay")) out.reopenDelay = parseReopenDelay(desc.get("reopen_delay"));
  for (const char* key : {"framer", "units", "echo", "t15", "turnaround", "latency", "reopen_delay"}) desc.kwargs.erase(key);
  out.serial = reactor::parseSerialEndpoint(desc);
  return out;
}

ModbusSerialServer::ModbusSerialServer(reactor::Reactor& reactor, std::shared_ptr<ServerContext> context,
                                       SerialServerOptions options)
    : ModbusServer(reactor),
      options_(std::move(options)),
      processor_(std::make_shared<RequestProcessor>(std::move(context), serialProcessorOptions(options_))) {
  refuseMbapFraming(options_.line.framer);
  delay_ = options_.reopenDelay;
}

ModbusSerialServer::~ModbusSerialServer() {
  shuttingDown_ = true;
  if (reopenTimer_.active()) reopenTimer_.cancel();
  if (protocol_) protocol_->onConnectionLost = nullptr;
  if (port_ && port_->connected()) port_->abortConnection();
}

reactor::Address ModbusSerialServer::open(std::string_view endpoint) {
  SerialServerEndpoint e = parseSerialServerEndpoint(endpoint, options_.line);
  options_.line = e.line;
  if (e.reopenDelay) {
    options_.reopenDelay = *e.reopenDelay;
    options_.reopenMaxDelay = std::max(options_.reopenMaxDelay, *e.reopenDelay);
    delay_ = options_.reopenDelay;
  }
  return open(e.serial);
}

void ModbusSerialServer::check(std::string_view endpoint) const {
  SerialServerEndpoint e = parseSerialServerEndpoint(endpoint, options_.line);
  if (!options_.waitForDevice) reactor::SerialPort::check(e.serial);
}

reactor::Address ModbusSerialServer::open(const reactor::SerialOptions& serial) {
  if (opened_) throw std::logic_error("ModbusSerialServer::open: a port is already open; use one server per port");
  refuseMbapFraming(options_.line.framer);
  serial_ = serial;
  opened_ = true;
  if (!tryOpen()) {
    if (!options_.waitForDevice) {
      opened_ = false;
      throw reactor::SerialPortError(lastError_, 0);
    }
    reactor::log::warning("serial port ", serial_.device, " cannot be opened yet (", lastError_, "); retrying in ",
                          delay_, " s");
    scheduleReopen();
  }
  return reactor::Address{reactor::Address::Type::Serial, serial_.device, 0, false};
}

bool ModbusSerialServer::tryOpen() {
  auto protocol = std::make_shared<ModbusSerialProtocol>(reactor(), processor_, options_.line);
  protocol->setMetrics(metricsPtr());
  if (options_.responseHook) protocol->setResponseHook(options_.responseHook);
  protocol->onConnectionLost = [this](const reactor::Failure& reason) { onLost(reason); };
  try {
    port_ = reactor::SerialPort::open(reactor(), protocol, serial_);
  } catch (const reactor::SerialPortError& e) {
    lastError_ = e.what();
    return false;
  }
  protocol_ = std::move(protocol);
  reactor::log::info("serving Modbus ", framerTypeName(options_.line.framer), " on serial ", serial_.toString());
  return true;
}

void ModbusSerialServer::setResponseHook(std::shared_ptr<ResponseHook> hook) {
  options_.responseHook = std::move(hook);
  if (protocol_) protocol_->setResponseHook(options_.responseHook);
}

bool ModbusSerialServer::isOpen() const { return port_ && port_->connected(); }

void ModbusSerialServer::onLost(const reactor::Failure& reason) {
  // Only a port that went away is reopened; a close we or the reactor asked for is final.
  if (shuttingDown_) return;
  if (!reason.check(reactor::FailureType::ConnectionLost) && !reason.check(reactor::FailureType::UserError)) return;
  if (!reactor().running()) return;
  delay_ = options_.reopenDelay;
  reactor::log::warning("serial port ", serial_.device, " lost (", reason.getErrorMessage(), "); reopening in ",
                        delay_, " s");
  scheduleReopen();
}

void ModbusSerialServer::scheduleReopen() {
  reopenTimer_ = reactor().callLater(delay_, [this] {
    if (shuttingDown_) return;
    if (tryOpen()) {
      ++reopens_;
      delay_ = options_.reopenDelay;
      reactor::log::info("serial port ", serial_.device, " reopened");
      return;
    }
    delay_ = std::min(delay_ * 2, options_.reopenMaxDelay);
    reactor::log::warning("reopening serial port ", serial_.device, " failed (", lastError_, "); next try in ",
                          delay_, " s");
    scheduleReopen();
  });
}

void ModbusSerialServer::doShutdown() {
  shuttingDown_ = true;
  if (reopenTimer_.active()) reopenTimer_.cancel();
  if (port_ && port_->connected()) port_->loseConnection();
}

void StartSerialServer(std::shared_ptr<ServerContext> context, std::string_view endpoint, SerialServerOptions options) {
  serveUntilShutdown<ModbusSerialServer>(
      endpoint, [](ModbusSerialServer& server, std::string_view address) { server.open(address); }, std::move(context), std::move(options));
}

}  // namespace modbus
