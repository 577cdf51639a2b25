// The /metrics exposition of Modbus servers: labels, one pass per family over the sources.
#include "protocols/servers/server_metrics.h"

#include <array>
#include <map>
#include <utility>

#include "protocols/http/prometheus.h"
#include "protocols/servers/modbus_serial_server.h"
#include "protocols/servers/modbus_tcp_server.h"
#include "protocols/servers/modbus_tls_server.h"
#include "protocols/servers/modbus_udp_server.h"

namespace modbus {
namespace {

using http::prometheus::Label;
using http::prometheus::TextWriter;

template <class Server>
std::string listeningLabel(const char* type, const Server& server) {
  std::string label = type;
  label += ':';
  bool first = true;
  for (const reactor::Address& a : server.addresses()) {
    if (!first) label += ',';
    first = false;
    label += a.toString();
  }
  return label;
}

/// The server-side closes and refusals a ConnectionLog counts, with their reason labels.
struct EventSeries {
  ConnectionEvent event;
  const char* reason;
};
constexpr std::array<EventSeries, 2> kRefusals{{{ConnectionEvent::RefusedPerPeer, "per_peer_limit"},
                                                {ConnectionEvent::RefusedFull, "max_connections"}}};
constexpr std::array<EventSeries, 4> kServerCloses{{{ConnectionEvent::EvictedIdle, "evicted"},
                                                    {ConnectionEvent::FrameDeadline, "frame_timeout"},
                                                    {ConnectionEvent::IdleTimeout, "idle_timeout"},
                                                    {ConnectionEvent::FramingError, "framing_error"}}};

void writeEvents(TextWriter& out, std::span<const ServerMetricsSource> sources, const char* name,
                 std::span<const EventSeries> series) {
  for (const ServerMetricsSource& s : sources) {
    if (s.connectionLog == nullptr) continue;
    for (const EventSeries& e : series) {
      out.sample(name, {{"server", s.server}, {"reason", e.reason}}, s.connectionLog->total(e.event));
    }
  }
}

}  // namespace

std::string serverMetricsLabel(const ModbusServer& server) {
  if (const auto* tcp = dynamic_cast<const ModbusTcpServer*>(&server)) return listeningLabel("tcp", *tcp);
  if (const auto* tls = dynamic_cast<const ModbusTlsServer*>(&server)) return listeningLabel("tls", *tls);
  if (const auto* udp = dynamic_cast<const ModbusUdpServer*>(&server)) return listeningLabel("udp", *udp);
  if (const auto* serial = dynamic_cast<const ModbusSerialServer*>(&server)) return "serial:" + serial->device();
  return "modbus";
}

std::vector<ServerMetricsSource> metricsSources(const std::vector<std::unique_ptr<ModbusServer>>& servers) {
  std::vector<ServerMetricsSource> out;
  std::map<std::string, int> seen;
  for (const auto& server : servers) {
    if (!server) continue;
    std::string label = serverMetricsLabel(*server);
    if (const int n = ++seen[label]; n > 1) {
      label += '#';  // two appends: g++ 12 -O3 flags "#" + string as -Wrestrict (a false positive)
      label += std::to_string(n);
    }
    out.push_back({std::move(label), &server->metrics(), server->connectionLog()});
  }
  return out;
}

std::string renderServerMetrics(std::span<const ServerMetricsSource> sources) {
  TextWriter out;
  out.family("modbus_requests_total", "counter", "Modbus requests decoded and run, by function code.");
  for (const ServerMetricsSource& s : sources) {
    for (std::size_t fc = 0; fc < s.metrics->requests.size(); ++fc) {
      if (s.metrics->requests[fc] == 0) continue;
      const std::string code = std::to_string(fc);
      out.sample("modbus_requests_total", {{"server", s.server}, {"function_code", code}}, s.metrics->requests[fc]);
    }
  }
  out.family("modbus_exceptions_total", "counter",
             "Exception responses sent, by function code and exception code (\"other\": a code above 15).");
  for (const ServerMetricsSource& s : sources) {
    for (std::size_t fc = 0; fc < s.metrics->exceptions.size(); ++fc) {
      for (std::size_t slot = 0; slot < ServingMetrics::kExceptionSlots; ++slot) {
        const std::uint64_t n = s.metrics->exceptions[fc][slot];
        if (n == 0) continue;
        const std::string code = std::to_string(fc);
        const std::string exception = slot == 0 ? "other" : std::to_string(slot);
        out.sample("modbus_exceptions_total",
                   {{"server", s.server}, {"function_code", code}, {"exception_code", exception}}, n);
      }
    }
  }
  out.family("modbus_connections_open", "gauge", "Connections open now (a serial line counts as one while open).");
  for (const ServerMetricsSource& s : sources) {
    out.sample("modbus_connections_open", {{"server", s.server}},
               s.metrics->connectionsMade - s.metrics->connectionsLost);
  }
  out.family("modbus_connections_accepted_total", "counter", "Connections accepted (serial: times the line opened).");
  for (const ServerMetricsSource& s : sources) {
    out.sample("modbus_connections_accepted_total", {{"server", s.server}}, s.metrics->connectionsMade);
  }
  out.family("modbus_connections_closed_total", "counter", "Connections closed, by either side, for any reason.");
  for (const ServerMetricsSource& s : sources) {
    out.sample("modbus_connections_closed_total", {{"server", s.server}}, s.metrics->connectionsLost);
  }
  out.family("modbus_connections_closed_by_server_total", "counter",
             "Connections the server closed, by reason (TCP and TLS servers).");
  writeEvents(out, sources, "modbus_connections_closed_by_server_total", kServerCloses);
  out.family("modbus_connections_refused_total", "counter",
             "Connections refused at accept, by reason (TCP and TLS servers).");
  writeEvents(out, sources, "modbus_connections_refused_total", kRefusals);
  out.family("modbus_received_bytes_total", "counter", "Bytes received from clients (datagrams and serial input included).");
  for (const ServerMetricsSource& s : sources) {
    out.sample("modbus_received_bytes_total", {{"server", s.server}}, s.metrics->bytesReceived);
  }
  out.family("modbus_sent_bytes_total", "counter", "Bytes sent to clients.");
  for (const ServerMetricsSource& s : sources) {
    out.sample("modbus_sent_bytes_total", {{"server", s.server}}, s.metrics->bytesSent);
  }
  out.family("modbus_request_duration_seconds", "histogram",
             "Seconds from the read that brought a request to the write of its answer.");
  for (const ServerMetricsSource& s : sources) {
    const LatencyHistogram& h = s.metrics->latency;
    std::array<std::uint64_t, LatencyHistogram::kBuckets> counts{};
    for (std::size_t i = 0; i < counts.size(); ++i) counts[i] = h.bucket(i);
    const std::array<Label, 1> labels{{{"server", s.server}}};
    out.histogram("modbus_request_duration_seconds", labels, LatencyHistogram::kBoundsSeconds, counts,
                  static_cast<double>(h.sumNanoseconds()) / 1e9);
  }
  return out.take();
}

http::Handler metricsHandler(std::function<std::vector<ServerMetricsSource>()> sources) {
  return [sources = std::move(sources)](http::Request&) {
    const std::vector<ServerMetricsSource> now = sources();
    return http::Response::text(200, renderServerMetrics(now), std::string(http::prometheus::kContentType));
  };
}

}  // namespace modbus
