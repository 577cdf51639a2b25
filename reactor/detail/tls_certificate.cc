// Certificates and mbedTLS error codes in the application's terms, and the Modbus/TCP Security role
// extension (MB-TCP-Security v36: OID 1.3.6.1.4.1.50316.802.1, an ASN.1 UTF8String).
#include "reactor/detail/tls_certificate.h"

#include <mbedtls/asn1.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>

#include <array>
#include <cstdio>

namespace reactor::detail {
namespace {

std::string formatTime(const mbedtls_x509_time& t) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d", t.year, t.mon, t.day, t.hour, t.min, t.sec);
  return buf;
}

std::string dnString(const mbedtls_x509_name& dn) {
  std::array<char, 1024> buf{};
  int n = mbedtls_x509_dn_gets(buf.data(), buf.size(), &dn);
  return n < 0 ? std::string() : std::string(buf.data(), static_cast<std::size_t>(n));
}

}  // namespace

std::optional<std::string> findModbusRole(const mbedtls_x509_crt& crt) {
  if (crt.v3_ext.p == nullptr || crt.v3_ext.len == 0) return std::nullopt;
  // v3_ext covers `Extensions ::= SEQUENCE OF Extension` (inside the [3] tag).
  unsigned char* p = crt.v3_ext.p;
  const unsigned char* const end = crt.v3_ext.p + crt.v3_ext.len;
  std::size_t len = 0;
  if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0) return std::nullopt;
  const unsigned char* const seqEnd = p + len;
  while (p < seqEnd) {
    // Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
    if (mbedtls_asn1_get_tag(&p, seqEnd, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0) break;
    unsigned char* const extEnd = p + len;
    mbedtls_asn1_buf oid{};
    oid.tag = MBEDTLS_ASN1_OID;
    if (mbedtls_asn1_get_tag(&p, extEnd, &oid.len, MBEDTLS_ASN1_OID) != 0) break;
    oid.p = p;
    p += oid.len;
    std::array<char, 64> name{};
    int n = mbedtls_oid_get_numeric_string(name.data(), name.size(), &oid);
    if (n <= 0 || std::string_view(name.data(), static_cast<std::size_t>(n)) != kModbusRoleOid) {
      p = extEnd;
      continue;
    }
    int critical = 0;
    if (p < extEnd && *p == MBEDTLS_ASN1_BOOLEAN && mbedtls_asn1_get_bool(&p, extEnd, &critical) != 0) break;
    if (mbedtls_asn1_get_tag(&p, extEnd, &len, MBEDTLS_ASN1_OCTET_STRING) != 0) break;
    const unsigned char* const valueEnd = p + len;
    std::size_t textLen = 0;
    if (mbedtls_asn1_get_tag(&p, valueEnd, &textLen, MBEDTLS_ASN1_UTF8_STRING) != 0) return std::nullopt;
    return std::string(reinterpret_cast<const char*>(p), textLen);
  }
  return std::nullopt;
}

TlsPeerCertificate describeCertificate(const mbedtls_x509_crt& crt) {
  TlsPeerCertificate out;
  out.subject = dnString(crt.subject);
  out.issuer = dnString(crt.issuer);
  std::array<char, 256> serial{};
  int n = mbedtls_x509_serial_gets(serial.data(), serial.size(), &crt.serial);
  if (n > 0) out.serialNumber.assign(serial.data(), static_cast<std::size_t>(n));
  out.validFrom = formatTime(crt.valid_from);
  out.validTo = formatTime(crt.valid_to);
  out.role = findModbusRole(crt);
  out.der.assign(crt.raw.p, crt.raw.p + crt.raw.len);
  return out;
}

std::string tlsErrorString(int code) {
  std::array<char, 256> buf{};
  mbedtls_strerror(code, buf.data(), buf.size());
  char hex[16];
  std::snprintf(hex, sizeof hex, "-0x%04X", static_cast<unsigned>(code < 0 ? -code : code));
  return std::string(buf.data()) + " (" + hex + ")";
}

std::string verifyFlagsString(std::uint32_t flags) {
  std::array<char, 512> buf{};
  int n = mbedtls_x509_crt_verify_info(buf.data(), buf.size(), "", flags);
  std::string text = n > 0 ? std::string(buf.data(), static_cast<std::size_t>(n)) : std::string();
  // One line per reason: join them for a log line.
  std::string out;
  for (char c : text) {
    if (c == '\n') {
      out += "; ";
    } else {
      out += c;
    }
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == ';')) out.pop_back();
  return out.empty() ? "unknown reason" : out;
}

}  // namespace reactor::detail
