import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Resumable HTTP(S) GET into a `.partial` file, through Foundation's URLSession (libcurl on Linux).
///
/// A `.partial` file that already holds n bytes is continued with `Range: bytes=n-`; a server that answers
/// 200 instead of 206 restarts it from zero. A dropped connection is retried (resuming) up to `maxAttempts`
/// times; after that the partial file stays for the next call. HTTP errors are never retried.
struct HTTPFetcher {
  var headers: [String: String]
  var maxAttempts: Int
  var timeout: TimeInterval = 60
  /// Seconds before retry k (times k) after a dropped connection.
  var retryDelay: TimeInterval = 0.5

  init(options: DownloadOptions, headers: [String: String] = [:]) {
    self.headers = headers
    maxAttempts = max(1, options.maxAttempts)
  }

  /// `received` counts bytes in the partial file (resumed bytes included); `total` is nil when unknown.
  typealias Progress = (_ received: Int64, _ total: Int64?) -> Void

  func fetch(_ url: URL, into partial: URL, progress: Progress) throws {
    let fm = FileManager.default
    if !fm.fileExists(atPath: partial.path) {
      guard fm.createFile(atPath: partial.path, contents: nil) else {
        throw DownloadError.io(path: partial.path, reason: "cannot create the partial download file")
      }
    }
    var attempt = 0
    while true {
      attempt += 1
      let offset = Self.size(of: partial)
      let outcome = try transfer(url, into: partial, offset: offset, progress: progress)
      switch outcome {
      case .complete:
        return
      case .rangeNotSatisfiable(let total):
        // The partial file already holds the whole body (a call stopped before verifying it): done, and
        // the caller's checksum decides. Otherwise it is no prefix the server can continue: start again.
        if total == offset && offset > 0 { return }
        try Data().write(to: partial)
        if attempt >= maxAttempts { throw DownloadError.http(url: url.absoluteString, status: 416) }
      case .httpStatus(let status):
        throw DownloadError.http(url: url.absoluteString, status: status)
      case .transportError(let reason, let expected):
        let received = Self.size(of: partial)
        if attempt < maxAttempts {
          Thread.sleep(forTimeInterval: retryDelay * Double(attempt))
          continue
        }
        if received > 0 { throw DownloadError.interrupted(url: url.absoluteString, received: received, expected: expected) }
        throw DownloadError.network(url: url.absoluteString, reason: reason)
      }
    }
  }

  /// Fetches `url` into `cache`'s `.partial` file for it (resuming what an earlier call left there), reporting
  /// progress as download events, and returns that file; the caller verifies it and moves it into place.
  func fetchIntoCache(_ url: String, cache: DataCache, progress: DownloadProgress) throws -> URL {
    guard let remote = URL(string: url) else { throw DownloadError.network(url: url, reason: "not a valid URL") }
    let partial = try cache.partialFile(for: url)
    progress(.fetching(url: url))
    try fetch(remote, into: partial) { received, total in progress(.bytes(url: url, received: received, total: total)) }
    return partial
  }

  static func size(of file: URL) -> Int64 {
    ((try? FileManager.default.attributesOfItem(atPath: file.path))?[.size] as? NSNumber)?.int64Value ?? 0
  }

  enum Outcome {
    case complete
    /// 416, with the body's full length when the server's `Content-Range: bytes */N` gives it.
    case rangeNotSatisfiable(total: Int64?)
    case httpStatus(Int)
    case transportError(String, expected: Int64?)
  }

  private func transfer(_ url: URL, into partial: URL, offset: Int64, progress: Progress) throws -> Outcome {
    guard let handle = try? FileHandle(forWritingTo: partial) else {
      throw DownloadError.io(path: partial.path, reason: "cannot open the partial download file for writing")
    }
    defer { try? handle.close() }
    var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
    for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
    if offset > 0 { request.setValue("bytes=\(offset)-", forHTTPHeaderField: "Range") }
    // The delegate holds `progress` only until the task completes, which this call waits for.
    let delegate = withoutActuallyEscaping(progress) { progress -> TransferDelegate in
      let delegate = TransferDelegate(handle: handle, offset: offset, progress: progress)
      let queue = OperationQueue()
      queue.maxConcurrentOperationCount = 1
      let session = URLSession(configuration: .ephemeral, delegate: delegate, delegateQueue: queue)
      session.dataTask(with: request).resume()
      delegate.done.wait()
      session.finishTasksAndInvalidate()
      delegate.progress = nil
      return delegate
    }
    if let failure = delegate.failure { throw failure }
    if let status = delegate.rejectedStatus {
      return status == 416 ? .rangeNotSatisfiable(total: delegate.unsatisfiableTotal) : .httpStatus(status)
    }
    if let error = delegate.error {
      return .transportError(Self.reason(error), expected: delegate.expectedTotal)
    }
    if let total = delegate.expectedTotal, delegate.received != total {
      return .transportError("the connection closed early", expected: total)
    }
    return .complete
  }

  static func reason(_ error: Error) -> String {
    guard let urlError = error as? URLError else { return error.localizedDescription }
    switch urlError.code {
    case .cannotConnectToHost: return "cannot connect to the host (no network, or nothing listening)"
    case .cannotFindHost, .dnsLookupFailed: return "cannot resolve the host name (no network?)"
    case .notConnectedToInternet: return "no network connection"
    case .timedOut: return "timed out"
    case .networkConnectionLost: return "the connection was lost"
    case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate:
      return "TLS connection failed (\(urlError.localizedDescription))"
    default: return urlError.localizedDescription
    }
  }
}

/// Appends the response body to the partial file as it arrives.
/// Its state is touched only on the session's serial delegate queue, and read after `done` is signalled.
private final class TransferDelegate: NSObject, URLSessionDataDelegate, @unchecked Sendable {
  let handle: FileHandle
  /// Cleared once the task completes (the closure must not outlive `transfer`).
  var progress: HTTPFetcher.Progress?
  let done = DispatchSemaphore(value: 0)
  var received: Int64
  var expectedTotal: Int64?
  var rejectedStatus: Int?
  var unsatisfiableTotal: Int64?
  var failure: DownloadError?
  var error: Error?
  private let offset: Int64

  init(handle: FileHandle, offset: Int64, progress: @escaping HTTPFetcher.Progress) {
    self.handle = handle
    self.offset = offset
    self.received = offset
    self.progress = progress
  }

  func urlSession(
    _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
  ) {
    let status = (response as? HTTPURLResponse)?.statusCode ?? 0
    let length = response.expectedContentLength
    do {
      switch status {
      case 206 where offset > 0:
        // Only a continuation of exactly our prefix is accepted (Content-Range: bytes OFFSET-…).
        let range = (response as? HTTPURLResponse)?.value(forHTTPHeaderField: "Content-Range") ?? ""
        guard range.hasPrefix("bytes \(offset)-") else {
          try handle.truncate(atOffset: 0)
          received = 0
          rejectedStatus = 416
          completionHandler(.cancel)
          return
        }
        try handle.seek(toOffset: UInt64(offset))
        expectedTotal = length >= 0 ? offset + length : nil
      case 200:
        // A full body: the server ignored the Range header, or there was none.
        try handle.truncate(atOffset: 0)
        received = 0
        expectedTotal = length >= 0 ? length : nil
      default:
        rejectedStatus = status
        if status == 416, let range = (response as? HTTPURLResponse)?.value(forHTTPHeaderField: "Content-Range"),
          range.hasPrefix("bytes */")
        {
          unsatisfiableTotal = Int64(range.dropFirst("bytes */".count))
        }
        completionHandler(.cancel)
        return
      }
    } catch {
      failure = .io(path: "partial download", reason: "cannot write: \(error)")
      completionHandler(.cancel)
      return
    }
    progress?(received, expectedTotal)
    completionHandler(.allow)
  }

  func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
    guard failure == nil else { return }
    do {
      try handle.write(contentsOf: data)
      received += Int64(data.count)
      progress?(received, expectedTotal)
    } catch {
      failure = .io(path: "partial download", reason: "cannot write: \(error)")
      dataTask.cancel()
    }
  }

  func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
    if rejectedStatus == nil && failure == nil { self.error = error }
    done.signal()
  }
}
