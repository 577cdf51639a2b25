// ModbusTlsServer / StartTlsServer: Modbus/TCP Security on the reactor's TLS transport.
#include "protocols/servers/modbus_tls_server.h"

#include <exception>
#include <string>

#include "reactor/endpoints.h"
#include "reactor/log.h"

namespace modbus {

ModbusTlsServer::ModbusTlsServer(reactor::Reactor& reactor, std::shared_ptr<ServerContext> context,
                                 TlsServerOptions tlsOptions, ServerOptions options)
    : ListeningServer(reactor),
      factory_(std::make_shared<ModbusTlsServerFactory>(std::move(context), options, std::move(tlsOptions))) {
  factory_->setClock(&reactor);
  shareMetrics(factory_->metricsPtr());
}

reactor::Address ModbusTlsServer::listen(std::string_view endpoint) {
  auto listening = streamEndpoint(reactor(), endpoint, {"tls"}, "Modbus TLS server", factory_->options().backlog)
                       ->listen(factory_);
  auto port = std::dynamic_pointer_cast<reactor::ITLSListeningPort>(listening);
  if (!port) throw reactor::EndpointError("the tls: endpoint did not give a TLS port");
  const bool requireCert = port->context().options().requireClientCertificate;
  reactor::Address host = addPort(std::move(port));
  reactor::log::info("listening on tls ", host.toString(), " (framing ",
                     factory_->tlsOptions().framing == TlsFraming::BarePdu ? "bare PDU" : "MBAP",
                     ", client certificate ", requireCert ? "required" : "optional", ", roles ",
                     factory_->roles() ? "enforced" : "not configured", ")");
  return host;
}

void ModbusTlsServer::check(std::string_view endpoint) const {
  // Building the endpoint loads the certificate, key and CA and checks that the key is the
  // certificate's; check() adds the interface.
  streamEndpoint(reactor(), endpoint, {"tls"}, "Modbus TLS server", factory_->options().backlog)->check();
}

void ModbusTlsServer::reloadCertificates() {
  std::exception_ptr first;
  for (const auto& p : ports()) {
    const std::string host = p->getHost().toString();
    try {
      // The context, not the port: the port's reload() logs a line of its own, and a reload
      // logs one line per endpoint.
      p->context().reload();
      reactor::log::info("reloaded the certificate, key and CA of tls ", host, " (generation ",
                         p->context().generation(), "): new connections use them, open ones continue");
    } catch (const std::exception& e) {
      reactor::log::error("reloading the certificate, key and CA of tls ", host,
                          " failed, keeping the current ones: ", e.what());
      if (!first) first = std::current_exception();
    }
  }
  if (first) std::rethrow_exception(first);
}

void ModbusTlsServer::doShutdown() {
  stopListening();
  factory_->loseAllConnections();
}

void StartTlsServer(std::shared_ptr<ServerContext> context, std::string_view address, TlsServerOptions tlsOptions,
                    ServerOptions options) {
  serveUntilShutdown<ModbusTlsServer>(address, &ModbusTlsServer::listen, std::move(context), std::move(tlsOptions),
                                      options);
}

}  // namespace modbus
