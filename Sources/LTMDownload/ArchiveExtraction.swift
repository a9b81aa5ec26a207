import Foundation
import ZIPFoundation

/// Extraction of named members from a downloaded (and, where its hash is known, verified) archive.
enum ArchiveExtraction {
  /// Writes each `member` of `archive` to its destination; every member must be present.
  static func extract(
    _ format: ArchiveSource.Format, archive: URL, members: [String: URL], url: String
  ) throws {
    switch format {
    case .zip: try extractZip(archive, members: members, url: url)
    case .tarGz: try extractTarGz(archive, members: members, url: url)
    }
  }

  private static func extractZip(_ file: URL, members: [String: URL], url: String) throws {
    let archive: Archive
    do {
      archive = try Archive(url: file, accessMode: .read)
    } catch {
      throw DownloadError.extraction(url: url, member: members.keys.sorted().joined(separator: ", "), reason: "not a readable zip archive")
    }
    for (member, destination) in members {
      guard let entry = archive[member], entry.type == .file else {
        throw DownloadError.extraction(url: url, member: member, reason: "no such file in the zip archive")
      }
      try? FileManager.default.removeItem(at: destination)
      do {
        _ = try archive.extract(entry, to: destination)
      } catch {
        throw DownloadError.extraction(url: url, member: member, reason: "\(error)")
      }
    }
  }

  /// gzip (RFC 1952) around a ustar/GNU tar stream, read in one pass: the raw deflate body is inflated by
  /// ZIPFoundation's zlib binding and the tar headers (512-byte blocks) are parsed as the bytes arrive.
  private static func extractTarGz(_ file: URL, members: [String: URL], url: String) throws {
    guard let input = try? FileHandle(forReadingFrom: file) else {
      throw DownloadError.io(path: file.path, reason: "cannot read")
    }
    defer { try? input.close() }
    let headerLength = try gzipHeaderLength(input, url: url)
    try input.seek(toOffset: UInt64(headerLength))
    var reader = TarReader(members: members, url: url)
    var atEnd = false
    do {
      _ = try Data.decompress(
        size: Int64.max, bufferSize: 1 << 20, skipCRC32: true,
        provider: { _, count in
          // ZIPFoundation's inflate loop hands zlib `count` bytes whatever the chunk's length, so the last
          // chunk is padded with zeros (a whole deflate stream and its trailer end before them); a call after
          // the end of the file means the stream never ended: a truncated archive. What a truncated stream
          // inflates from the padding is garbage that a tar header, a missing member or the member's checksum
          // rejects; nothing from it is installed.
          if atEnd { throw TarReader.Truncated() }
          var chunk = try input.read(upToCount: count) ?? Data()
          if chunk.count < count {
            atEnd = true
            chunk.append(Data(count: count - chunk.count))
          }
          return chunk
        },
        consumer: { data in
          // Stop reading as soon as every wanted member is written.
          if try reader.consume(data) { throw TarReader.Done() }
        })
    } catch is TarReader.Done {
    } catch let error as DownloadError {
      throw error
    } catch {
      throw DownloadError.extraction(url: url, member: members.keys.sorted().joined(separator: ", "), reason: "corrupt or truncated gzip stream")
    }
    try reader.finish()
  }

  /// The length of the gzip member header (magic, method 8, optional FEXTRA/FNAME/FCOMMENT/FHCRC).
  private static func gzipHeaderLength(_ input: FileHandle, url: String) throws -> Int {
    let head = [UInt8](try input.read(upToCount: 64 * 1024) ?? Data())
    func bad(_ why: String) -> DownloadError { .extraction(url: url, member: "(gzip header)", reason: why) }
    guard head.count >= 10, head[0] == 0x1f, head[1] == 0x8b else { throw bad("not a gzip file") }
    guard head[2] == 8 else { throw bad("unsupported compression method \(head[2])") }
    let flags = head[3]
    var i = 10
    if flags & 0x04 != 0 {
      guard i + 2 <= head.count else { throw bad("truncated header") }
      i += 2 + Int(head[i]) + Int(head[i + 1]) << 8
    }
    for bit: UInt8 in [0x08, 0x10] where flags & bit != 0 {
      while i < head.count && head[i] != 0 { i += 1 }
      i += 1
    }
    if flags & 0x02 != 0 { i += 2 }
    guard i <= head.count else { throw bad("truncated header") }
    return i
  }
}

/// A streaming tar parser that writes the wanted members to their destinations.
struct TarReader {
  struct Truncated: Error {}
  struct Done: Error {}

  private var wanted: [String: URL]
  private let url: String
  private var buffer = Data()
  /// Bytes of the current entry's body still to come, and its padding to the next 512-byte boundary.
  private var remaining: Int64 = 0
  private var padding: Int64 = 0
  private var output: FileHandle?
  private var currentName: String?
  private var longName: String?
  private var paxPath: String?
  private var collecting: Data?

  init(members: [String: URL], url: String) {
    self.wanted = members
    self.url = url
  }

  /// Feeds inflated bytes; returns true once every wanted member has been written (the rest is skipped).
  mutating func consume(_ data: Data) throws -> Bool {
    buffer.append(data)
    var cursor = buffer.startIndex
    defer { buffer = Data(buffer[cursor...]) }
    while true {
      if remaining > 0 {
        let take = Int(min(remaining, Int64(buffer.endIndex - cursor)))
        if take == 0 { return false }
        let slice = buffer[cursor..<cursor + take]
        if let output { output.write(Data(slice)) }
        if collecting != nil { collecting!.append(slice) }
        cursor += take
        remaining -= Int64(take)
        if remaining == 0 { try endEntry() }
        continue
      }
      if padding > 0 {
        let take = Int(min(padding, Int64(buffer.endIndex - cursor)))
        if take == 0 { return false }
        cursor += take
        padding -= Int64(take)
        continue
      }
      if wanted.isEmpty { return true }
      guard buffer.endIndex - cursor >= 512 else { return false }
      let header = [UInt8](buffer[cursor..<cursor + 512])
      cursor += 512
      if header.allSatisfy({ $0 == 0 }) { continue }
      try begin(header)
    }
  }

  func finish() throws {
    if let missing = wanted.keys.sorted().first {
      throw DownloadError.extraction(url: url, member: missing, reason: "no such file in the tar archive")
    }
  }

  private mutating func begin(_ h: [UInt8]) throws {
    func field(_ from: Int, _ length: Int) -> String {
      let bytes = h[from..<from + length].prefix { $0 != 0 }
      return String(decoding: bytes, as: UTF8.self)
    }
    let sizeText = field(124, 12).trimmingCharacters(in: .whitespaces)
    guard let size = Int64(sizeText.isEmpty ? "0" : sizeText, radix: 8) else {
      throw DownloadError.extraction(url: url, member: "(tar header)", reason: "bad size field '\(sizeText)'")
    }
    let type = h[156]
    var name = field(0, 100)
    if field(257, 5) == "ustar" {
      let prefix = field(345, 155)
      if !prefix.isEmpty { name = prefix + "/" + name }
    }
    if let long = longName { name = long; longName = nil }
    if let pax = paxPath { name = pax; paxPath = nil }
    remaining = size
    padding = (512 - size % 512) % 512
    currentName = nil
    switch type {
    case UInt8(ascii: "L"), UInt8(ascii: "x"):
      // GNU long name / pax extended header: the body names the next entry.
      currentName = type == UInt8(ascii: "L") ? "\u{0}L" : "\u{0}x"
      collecting = Data()
    case 0, UInt8(ascii: "0"), UInt8(ascii: "7"):
      if let destination = wanted[name] {
        try? FileManager.default.removeItem(at: destination)
        guard FileManager.default.createFile(atPath: destination.path, contents: nil),
          let handle = try? FileHandle(forWritingTo: destination)
        else { throw DownloadError.io(path: destination.path, reason: "cannot create") }
        output = handle
        currentName = name
      }
    default:
      break
    }
    if remaining == 0 { try endEntry() }
  }

  private mutating func endEntry() throws {
    if let output {
      try output.close()
      self.output = nil
    }
    if let name = currentName {
      if name == "\u{0}L", let body = collecting {
        longName = String(decoding: body.prefix { $0 != 0 }, as: UTF8.self)
      } else if name == "\u{0}x", let body = collecting {
        paxPath = Self.paxPath(body)
      } else {
        wanted[name] = nil
      }
    }
    collecting = nil
    currentName = nil
  }

  /// The `path` record of a pax header ("LEN path=VALUE\n" records).
  private static func paxPath(_ body: Data) -> String? {
    for line in String(decoding: body, as: UTF8.self).split(separator: "\n") {
      guard let space = line.firstIndex(of: " ") else { continue }
      let record = line[line.index(after: space)...]
      if record.hasPrefix("path=") { return String(record.dropFirst(5)) }
    }
    return nil
  }
}
