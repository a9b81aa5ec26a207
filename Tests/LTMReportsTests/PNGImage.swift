import Foundation
import ZIPFoundation

/// A minimal PNG reader for the headless-Chromium test: 8-bit grey, grey+alpha, RGB or RGBA, not interlaced
/// (what Chromium writes). Enough to tell a rendered page from a blank one, nothing more.
struct PNGImage {
  var width: Int
  var height: Int
  /// Channels per pixel (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA).
  var channels: Int
  /// Unfiltered scanlines, `width * channels` bytes each.
  var pixels: [UInt8]

  struct Unsupported: Error, CustomStringConvertible {
    var description: String
  }

  init(data: Data) throws {
    let bytes = [UInt8](data)
    guard bytes.count > 8, bytes[0..<8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else {
      throw Unsupported(description: "not a PNG file")
    }
    func u32(_ at: Int) -> Int { Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3]) }
    var offset = 8
    var header: [UInt8] = []
    var compressed = Data()
    while offset + 8 <= bytes.count {
      let length = u32(offset)
      let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
      let body = (offset + 8)..<(offset + 8 + length)
      guard body.upperBound + 4 <= bytes.count else { throw Unsupported(description: "truncated \(type) chunk") }
      if type == "IHDR" { header = Array(bytes[body]) }
      if type == "IDAT" { compressed.append(contentsOf: bytes[body]) }
      if type == "IEND" { break }
      offset = body.upperBound + 4
    }
    guard header.count == 13 else { throw Unsupported(description: "no IHDR chunk") }
    width = Int(header[0]) << 24 | Int(header[1]) << 16 | Int(header[2]) << 8 | Int(header[3])
    height = Int(header[4]) << 24 | Int(header[5]) << 16 | Int(header[6]) << 8 | Int(header[7])
    let (depth, colorType, interlace) = (header[8], header[9], header[12])
    guard depth == 8, interlace == 0 else { throw Unsupported(description: "bit depth \(depth), interlace \(interlace)") }
    switch colorType {
    case 0: channels = 1
    case 2: channels = 3
    case 4: channels = 2
    case 6: channels = 4
    default: throw Unsupported(description: "colour type \(colorType)")
    }
    // IDAT is a zlib stream: a 2-byte header, raw deflate, a 4-byte checksum.
    let deflate = compressed.subdata(in: 2..<(compressed.count - 4))
    var raw = Data()
    // One chunk of exactly the stream's size: ZIPFoundation's inflate loop trusts the chunk to be `bufferSize` long.
    _ = try Data.decompress(size: Int64(deflate.count), bufferSize: deflate.count, skipCRC32: true, provider: { position, size in
      deflate.subdata(in: Int(position)..<min(deflate.count, Int(position) + size))
    }, consumer: { raw.append($0) })
    pixels = try Self.unfilter([UInt8](raw), width: width, height: height, bpp: channels)
  }

  /// Undoes PNG's per-scanline filters (None, Sub, Up, Average, Paeth).
  private static func unfilter(_ raw: [UInt8], width: Int, height: Int, bpp: Int) throws -> [UInt8] {
    let stride = width * bpp
    guard raw.count >= height * (stride + 1) else { throw Unsupported(description: "\(raw.count) bytes for \(width)×\(height)") }
    var out = [UInt8](repeating: 0, count: height * stride)
    for y in 0..<height {
      let filter = raw[y * (stride + 1)]
      let src = y * (stride + 1) + 1
      for x in 0..<stride {
        let a = x >= bpp ? Int(out[y * stride + x - bpp]) : 0
        let b = y > 0 ? Int(out[(y - 1) * stride + x]) : 0
        let c = x >= bpp && y > 0 ? Int(out[(y - 1) * stride + x - bpp]) : 0
        let predictor: Int
        switch filter {
        case 0: predictor = 0
        case 1: predictor = a
        case 2: predictor = b
        case 3: predictor = (a + b) / 2
        case 4:
          let p = a + b - c
          let (pa, pb, pc) = (abs(p - a), abs(p - b), abs(p - c))
          predictor = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
        default: throw Unsupported(description: "filter \(filter) on row \(y)")
        }
        out[y * stride + x] = UInt8(truncatingIfNeeded: Int(raw[src + x]) + predictor)
      }
    }
    return out
  }

  /// (r, g, b) of pixel (x, y).
  func rgb(_ x: Int, _ y: Int) -> (UInt8, UInt8, UInt8) {
    let i = (y * width + x) * channels
    return channels >= 3 ? (pixels[i], pixels[i + 1], pixels[i + 2]) : (pixels[i], pixels[i], pixels[i])
  }
}
