import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A small HTTP/1.1 server on 127.0.0.1 for download tests: one request per connection (`Connection:
/// close`), Range requests (206 / 416), and a response that deliberately drops the connection after N body
/// bytes. Written on POSIX sockets rather than FlyingFox because a test needs to cut a response short
/// mid-body, which a framework that writes whole responses cannot do. Every request is recorded.
public final class LoopbackHTTPServer: @unchecked Sendable {
  public struct Request: Sendable {
    public var method: String
    public var path: String
    /// Header names lower-cased.
    public var headers: [String: String]
  }

  public struct Response: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: Data
    /// Send only this many body bytes (after advertising the full Content-Length), then close.
    public var dropAfter: Int?

    public init(status: Int, headers: [String: String] = [:], body: Data = Data(), dropAfter: Int? = nil) {
      self.status = status
      self.headers = headers
      self.body = body
      self.dropAfter = dropAfter
    }

    public static let notFound = Response(status: 404, body: Data("not found\n".utf8))

    /// `data` as a whole (200) or the part a `Range: bytes=N-[M]` header asks for (206, or 416 past the end).
    public static func content(_ data: Data, for request: Request) -> Response {
      guard let range = request.headers["range"], range.hasPrefix("bytes=") else {
        return Response(status: 200, body: data)
      }
      let spec = range.dropFirst("bytes=".count).split(separator: "-", omittingEmptySubsequences: false)
      guard spec.count == 2, let start = Int(spec[0]) else { return Response(status: 200, body: data) }
      let end = Int(spec[1]).map { min($0, data.count - 1) } ?? data.count - 1
      guard start < data.count, start <= end else {
        return Response(status: 416, headers: ["Content-Range": "bytes */\(data.count)"])
      }
      return Response(
        status: 206, headers: ["Content-Range": "bytes \(start)-\(end)/\(data.count)"],
        body: data.subdata(in: start..<(end + 1)))
    }
  }

  public let port: UInt16
  public var baseURL: URL { URL(string: "http://127.0.0.1:\(port)/")! }

  private let listener: Int32
  private let handler: @Sendable (Request) -> Response
  private let lock = NSLock()
  private var log: [Request] = []
  private var stopped = false

  /// Every request so far, in arrival order.
  public var requests: [Request] { lock.withLock { log } }

  public init(handler: @escaping @Sendable (Request) -> Response) throws {
    self.handler = handler
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw ServerError("socket() failed") }
    var one: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0, listen(fd, 64) == 0 else {
      close(fd)
      throw ServerError("bind/listen on 127.0.0.1 failed")
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    port = UInt16(bigEndian: address.sin_port)
    listener = fd
    let thread = Thread { [self] in acceptLoop() }
    thread.start()
  }

  deinit { stop() }

  public func stop() {
    let wasStopped = lock.withLock { () -> Bool in
      defer { stopped = true }
      return stopped
    }
    if !wasStopped {
      shutdown(listener, Int32(SHUT_RDWR))
      close(listener)
    }
  }

  public struct ServerError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
  }

  /// Serves the files under `root` (GET path → root/path), with Range support; anything else is 404.
  public static func files(under root: URL) -> @Sendable (Request) -> Response {
    { request in
      let relative = request.path.split(separator: "?")[0].removingPercentEncoding ?? request.path
      guard !relative.split(separator: "/").contains(".."),
        let data = FileManager.default.contents(atPath: root.appendingPathComponent(relative).path)
      else { return .notFound }
      return .content(data, for: request)
    }
  }

  private func acceptLoop() {
    while true {
      let client = accept(listener, nil, nil)
      if client < 0 {
        if lock.withLock({ stopped }) { return }
        continue
      }
      Thread { [self] in serve(client) }.start()
    }
  }

  private func serve(_ client: Int32) {
    defer { close(client) }
    var received = Data()
    var buffer = [UInt8](repeating: 0, count: 4096)
    while received.range(of: Data("\r\n\r\n".utf8)) == nil {
      let n = recv(client, &buffer, buffer.count, 0)
      if n <= 0 { return }
      received.append(contentsOf: buffer[0..<n])
    }
    let head = String(decoding: received, as: UTF8.self).components(separatedBy: "\r\n")
    let first = head[0].split(separator: " ")
    guard first.count >= 2 else { return }
    var headers: [String: String] = [:]
    for line in head.dropFirst() {
      guard let colon = line.firstIndex(of: ":") else { continue }
      headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    let request = Request(method: String(first[0]), path: String(first[1]), headers: headers)
    lock.withLock { log.append(request) }
    let response = handler(request)
    var text = "HTTP/1.1 \(response.status) \(Self.reason(response.status))\r\n"
    var fields = response.headers
    fields["Content-Length"] = String(response.body.count)
    fields["Connection"] = "close"
    for (name, value) in fields.sorted(by: { $0.key < $1.key }) { text += "\(name): \(value)\r\n" }
    text += "\r\n"
    var out = Data(text.utf8)
    if request.method != "HEAD" { out.append(response.body.prefix(response.dropAfter ?? response.body.count)) }
    out.withUnsafeBytes { raw in
      var offset = 0
      while offset < raw.count {
        let n = send(client, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
        if n <= 0 { return }
        offset += n
      }
    }
    shutdown(client, Int32(SHUT_WR))
  }

  private static func reason(_ status: Int) -> String {
    switch status {
    case 200: return "OK"
    case 206: return "Partial Content"
    case 401: return "Unauthorized"
    case 404: return "Not Found"
    case 416: return "Range Not Satisfiable"
    default: return "Status"
    }
  }
}
