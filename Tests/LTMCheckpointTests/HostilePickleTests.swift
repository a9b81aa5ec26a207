import Foundation
import XCTest

@testable import LTMCheckpoint

/// Pickles and archives built by hand to attack or confuse the loader. Each must be refused with a one-line error
/// that says what was wrong, and nothing may ever be executed or crash.
final class HostilePickleTests: XCTestCase {
  private func unpickle(_ p: PickleBuilder, storages: [String: Data] = [:]) throws -> PickleValue {
    try TorchCheckpoint.unpickle(p.bytes, path: "evil.pt", storages: storages)
  }

  func testForbiddenGlobalsAreRefusedByName() {
    for (module, name) in [("os", "system"), ("posix", "system"), ("builtins", "eval"), ("subprocess", "Popen"),
                           ("torch", "load"), ("torch._utils", "_rebuild_device_tensor_from_numpy"), ("collections", "defaultdict"),
                           ("_codecs", "encode"), ("numpy.core.multiarray", "_reconstruct")] {
      // GLOBAL form (protocol 2), as a REDUCE call.
      var p = PickleBuilder(proto: 2)
      p.global(module, name)
      p.string("echo pwned")
      p.tuple1()
      p.reduce()
      p.stop()
      assertCheckpointError(try unpickle(p), contains: ["evil.pt", "\(module).\(name)", "refuses"])
      // STACK_GLOBAL form (protocol 4), memoized first as Python does.
      var q = PickleBuilder(proto: 4)
      q.string(module)
      q.memoize()
      q.string(name)
      q.memoize()
      q.op(0x93)
      q.string("echo pwned")
      q.tuple1()
      q.reduce()
      q.stop()
      assertCheckpointError(try unpickle(q), contains: ["evil.pt", "\(module).\(name)", "refuses"])
    }
  }

  /// A forbidden global hidden deep inside an otherwise valid state dict, after a real tensor.
  func testForbiddenGlobalInsideStateDict() {
    var p = PickleBuilder()
    p.emptyDict()
    p.mark()
    p.string("w")
    p.tensor(key: "0", numel: 2, size: [2], stride: [1])
    p.string("evil")
    p.global("builtins", "exec")
    p.string("import os")
    p.tuple1()
    p.reduce()
    p.setItems()
    p.stop()
    assertCheckpointError(try unpickle(p, storages: ["0": Data(floatBytes([1, 2]))]), contains: ["builtins.exec"])
  }

  func testAllowedGlobalsMisusedAreMalformed() {
    var p = PickleBuilder()
    p.global("torch", "FloatStorage")
    p.emptyTuple()
    p.reduce()
    p.stop()
    assertCheckpointError(try unpickle(p), contains: ["torch.FloatStorage", "persistent id"])

    var q = PickleBuilder()
    q.global("torch._utils", "_rebuild_tensor_v2")
    q.stop()
    assertCheckpointError(try unpickle(q), contains: ["torch._utils._rebuild_tensor_v2", "itself"])

    var r = PickleBuilder()
    r.global("torch._utils", "_rebuild_tensor_v2")
    r.mark()
    r.int(1)
    r.int(2)
    r.tuple()
    r.reduce()
    r.stop()
    assertCheckpointError(try unpickle(r), contains: ["expects 6 or 7 arguments"])

    var s = PickleBuilder()
    s.global("torch", "ComplexFloatStorage")
    s.stop()
    assertCheckpointError(try unpickle(s), contains: ["torch.ComplexFloatStorage", "unsupported dtype"])

    var t = PickleBuilder()
    t.string("not callable")
    t.emptyTuple()
    t.reduce()
    t.stop()
    assertCheckpointError(try unpickle(t), contains: ["REDUCE", "not a global"])
  }

  func testTruncatedPicklesAreRefusedAtEveryLength() throws {
    var p = PickleBuilder()
    p.emptyDict()
    p.put(0)
    p.mark()
    p.string("w")
    p.tensor(key: "0", numel: 2, size: [2], stride: [1])
    p.string("lr")
    p.float(3e-4)
    p.string("big")
    p.int(1 << 40)
    p.setItems()
    p.stop()
    let storages = ["0": Data(floatBytes([1, 2]))]
    let full = try TorchCheckpoint.unpickle(p.bytes, storages: storages)
    XCTAssertEqual(try full["w"]?.tensorValue?.floats(), [1, 2])
    XCTAssertEqual(full["lr"]?.doubleValue, 3e-4)
    XCTAssertEqual(full["big"]?.intValue, 1 << 40)
    for n in 0..<p.bytes.count {
      assertCheckpointError(
        try TorchCheckpoint.unpickle(Array(p.bytes.prefix(n)), path: "cut.pt", storages: storages), contains: ["cut.pt", "malformed pickle"])
    }
  }

  func testUnknownAndUnsupportedOpcodes() {
    for (op, fragment) in [(UInt8(0xFF), "unknown opcode 0xff"), (0x69, "opcode INST (0x69)"), (0x8F, "EMPTY_SET"), (0x50, "PERSID")] {
      var p = PickleBuilder()
      p.op(op)
      p.stop()
      assertCheckpointError(try unpickle(p), contains: ["evil.pt", fragment, "at byte 2"])
    }
    var q = PickleBuilder(proto: 6)
    q.stop()
    assertCheckpointError(try unpickle(q), contains: ["protocol 6"])
  }

  func testStackAndMemoMisuse() {
    let programs: [([UInt8], String)] = [
      ([0x80, 2, 0x2E], "stack underflow"),  // STOP on an empty stack
      ([0x80, 2, 0x74, 0x2E], "needs a MARK"),  // TUPLE without MARK
      ([0x80, 2, 0x68, 7, 0x2E], "memo entry 7"),  // BINGET of nothing
      ([0x80, 2, 0x5D, 0x4E, 0x4E, 0x73, 0x2E], "not a dict"),  // SETITEM on a list
      ([0x80, 2, 0x7D, 0x5D, 0x4E, 0x73, 0x2E], "unhashable"),  // a list as a dict key
      ([0x80, 2, 0x28, 0x4E, 0x86, 0x2E], "stack underflow"),  // TUPLE2 reaching below a MARK
      ([0x80, 2, 0x4E, 0x85, 0x51, 0x2E], "persistent id"),  // BINPERSID with a bad id
      ([0x80, 2, 0x4E, 0x4E, 0x62, 0x2E], "BUILD"),  // BUILD on None
      ([0x80, 2, 0x8A, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x2E], "64 bits"),  // LONG1 of 2^64
      ([0x80, 2, 0x58, 2, 0, 0, 0, 0xC3, 0x28, 0x2E], "UTF-8"),  // invalid UTF-8
      ([0x80, 2, 0x8D, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x2E], "truncated"),  // huge BINUNICODE8
    ]
    for (bytes, fragment) in programs {
      assertCheckpointError(try TorchCheckpoint.unpickle(bytes, path: "evil.pt"), contains: ["evil.pt", fragment])
    }
  }

  /// Memo references let a few bytes describe a huge tree ("billion laughs") or a cycle; both must be refused.
  func testSharedReferenceBlowUpAndCycles() {
    var p = PickleBuilder()
    p.emptyList()
    p.put(0)
    for level in 1...40 {
      p.get(UInt8(level - 1))
      p.get(UInt8(level - 1))
      p.tuple2()
      p.put(UInt8(level))
    }
    p.stop()
    assertCheckpointError(try unpickle(p), contains: ["more than"])

    var q = PickleBuilder()
    q.emptyList()
    q.put(0)
    q.get(0)
    q.append()  // the list contains itself
    q.stop()
    assertCheckpointError(try unpickle(q), contains: ["refer to themselves"])
  }

  /// A few bytes per level make chains a million deep: they must be refused, and freeing them must not recurse.
  func testMillionDeepNestingIsRefusedWithoutStackOverflow() {
    var tuples = PickleBuilder()
    tuples.none()
    for _ in 0..<1_000_000 { tuples.tuple1() }
    tuples.stop()
    assertCheckpointError(try unpickle(tuples), contains: ["deeper than 256"])

    // Built top-down through the memo: each new list is appended to the previous one before it is filled.
    var lists = PickleBuilder()
    lists.emptyList()
    lists.put(0)
    for _ in 0..<500_000 {
      lists.emptyList()
      lists.put(1)
      lists.append()  // previous.append(new); the previous list stays on the stack
      lists.op(0x30)  // POP it
      lists.get(1)  // continue from the new one
    }
    lists.op(0x30)
    lists.get(0)
    lists.stop()
    assertCheckpointError(try unpickle(lists), contains: ["deeper than 256"])

    // A deeply nested tuple as a dict key.
    var key = PickleBuilder()
    key.emptyDict()
    key.none()
    for _ in 0..<300 { key.tuple1() }
    key.int(1)
    key.setItem()
    key.stop()
    assertCheckpointError(try unpickle(key), contains: ["unhashable"])
  }

  func testHugeDeclaredSizesDoNotOverflow() {
    var p = PickleBuilder()
    p.tensor(key: "0", numel: Int.max, size: [1], stride: [1])
    p.stop()
    assertCheckpointError(try unpickle(p, storages: ["0": Data(count: 4)]), contains: ["storage 0", "more than any file can hold"])
    var q = PickleBuilder()
    q.tensor(key: "0", numel: 1, size: [1 << 61, 2], stride: [0, 0])
    q.stop()
    assertCheckpointError(try unpickle(q, storages: ["0": Data(count: 4)]), contains: ["non-contiguous view", "limit"])
  }

  /// Memoized containers are shared: filling one after a BINGET must be visible through both references.
  func testMemoSharesContainerIdentity() throws {
    var p = PickleBuilder()
    p.emptyList()
    p.put(0)
    p.emptyDict()
    p.put(1)
    p.append()  // outer = [d]
    p.get(1)
    p.string("k")
    p.int(5)
    p.setItem()  // d["k"] = 5, through the memo
    p.append()  // outer = [d, d]
    p.stop()
    let value = try unpickle(p)
    XCTAssertEqual(value[index: 0]?["k"]?.intValue, 5)
    XCTAssertEqual(value[index: 1]?["k"]?.intValue, 5)
  }

  func testDictSemanticsAndOrderedDictForms() throws {
    var p = PickleBuilder()
    p.emptyDict()
    p.mark()
    p.string("a")
    p.int(1)
    p.string("b")
    p.int(2)
    p.string("a")
    p.int(3)
    p.int(1)
    p.string("int key")
    p.bool(true)
    p.string("bool key replaces int key 1, as in Python")
    p.setItems()
    p.stop()
    let d = try unpickle(p)
    XCTAssertEqual(d.dictEntries?.count, 3)
    XCTAssertEqual(d["a"]?.intValue, 3)
    XCTAssertEqual(d.stringKeys, nil)
    XCTAssertEqual(d[intKey: 1]?.stringValue, "bool key replaces int key 1, as in Python")

    // OrderedDict([(k, v), ...]) and NEWOBJ forms; other arguments are refused.
    var q = PickleBuilder()
    q.global("collections", "OrderedDict")
    q.int(5)
    q.tuple1()
    q.reduce()
    q.stop()
    assertCheckpointError(try unpickle(q), contains: ["collections.OrderedDict", "unsupported arguments"])
    var r = PickleBuilder()
    r.global("collections", "OrderedDict")
    r.emptyList()
    r.string("x")
    r.int(1)
    r.tuple2()
    r.append()
    r.tuple1()
    r.reduce()
    r.global("collections", "OrderedDict")
    r.emptyTuple()
    r.op(0x81)  // NEWOBJ
    r.tuple2()
    r.stop()
    let pair = try unpickle(r)
    XCTAssertEqual(pair[index: 0]?["x"]?.intValue, 1)
    XCTAssertEqual(pair[index: 1]?.dictEntries?.count, 0)
  }

  // MARK: - Storages and views

  func testPersistentIdToMissingStorage() throws {
    var p = PickleBuilder()
    p.tensor(key: "7", numel: 4, size: [4], stride: [1])
    p.stop()
    assertCheckpointError(try unpickle(p), contains: ["storage '7'", "missing"])
    // In a real archive the error names the entry that is absent.
    let dir = try makeTemporaryDirectory(self)
    let url = dir.appendingPathComponent("missing.pt")
    try torchArchive(p.bytes, storages: ["0": floatBytes([1, 2, 3, 4])]).write(to: url)
    assertCheckpointError(try TorchCheckpoint.load(url), contains: [url.path, "storage '7'", "archive/data/7"])
  }

  func testStorageTooSmallForSizeOrStride() throws {
    let storage = ["0": Data(floatBytes([1, 2, 3, 4, 5, 6]))]
    let cases: [(Int, [Int], [Int], String)] = [
      (0, [7], [1], "reach element 6"),
      (0, [2, 3], [4, 1], "reach element 6"),  // row stride too long
      (5, [2], [1], "reach element 6"),  // offset pushes past the end
      (0, [3, 3], [2, 1], "reach element 6"),
      (-1, [1], [1], "negative storage offset"),
      (0, [2], [-1], "negative stride"),
      (0, [2, 2], [1], "differ in rank"),
      (0, [Int.max, 2], [1, 1], "overflows"),
    ]
    for (offset, size, stride, fragment) in cases {
      var p = PickleBuilder()
      p.emptyDict()
      p.string("layers.0.w")
      p.tensor(key: "0", numel: 6, offset: offset, size: size, stride: stride)
      p.setItem()
      p.stop()
      assertCheckpointError(try unpickle(p, storages: storage), contains: ["evil.pt", "layers.0.w (storage 0)", fragment])
    }
    // The persistent id's numel must match the storage's bytes.
    var q = PickleBuilder()
    q.tensor(key: "0", numel: 8, size: [8], stride: [1])
    q.stop()
    assertCheckpointError(try unpickle(q, storages: storage), contains: ["storage 0", "24 bytes", "8 × 4"])
    let dir = try makeTemporaryDirectory(self)
    let url = dir.appendingPathComponent("short.pt")
    try torchArchive(q.bytes, storages: ["0": floatBytes([1, 2, 3, 4, 5, 6])]).write(to: url)
    assertCheckpointError(try TorchCheckpoint.load(url), contains: [url.path, "storage 0", "holds 24 bytes", "torch.FloatStorage"])
  }

  func testStrideZeroViewsCannotExhaustMemory() {
    var p = PickleBuilder()
    p.tensor(key: "0", numel: 1, size: [1 << 20, 1 << 20], stride: [0, 0])
    p.stop()
    assertCheckpointError(try unpickle(p, storages: ["0": Data(floatBytes([1]))]), contains: ["non-contiguous view", "limit"])
  }

  // MARK: - Containers

  func testContainerDefects() throws {
    let dir = try makeTemporaryDirectory(self)
    var p = PickleBuilder()
    p.emptyDict()
    p.string("w")
    p.tensor(key: "0", numel: 2, size: [2], stride: [1])
    p.setItem()
    p.stop()
    let storages = ["0": floatBytes([1, 2])]
    func load(_ name: String, _ data: Data) throws -> PickleValue {
      let url = dir.appendingPathComponent(name)
      try data.write(to: url)
      return try TorchCheckpoint.load(url)
    }
    // A good archive built by the independent zip writer loads.
    XCTAssertEqual(try load("ok.pt", torchArchive(p.bytes, storages: storages))["w"]?.tensorValue?.floats(), [1, 2])
    assertCheckpointError(try load("big.pt", torchArchive(p.bytes, storages: storages, byteorder: "big")), contains: ["big.pt", "byteorder is \"big\""])
    assertCheckpointError(try load("nover.pt", torchArchive(p.bytes, storages: storages, version: nil)), contains: ["nover.pt", "version"])
    assertCheckpointError(try load("badver.pt", torchArchive(p.bytes, storages: storages, version: "x")), contains: ["badver.pt", "not a version number"])
    assertCheckpointError(try load("crc.pt", torchArchive(p.bytes, storages: storages, corruptStorage: "0")), contains: ["crc.pt", "archive/data/0", "CRC-32"])
    assertCheckpointError(try load("legacy.pt", Data([0x80, 0x02, 0x8A, 0x0A])), contains: ["legacy.pt", "legacy"])
    assertCheckpointError(try load("text.pt", Data("hello".utf8)), contains: ["text.pt", "not a zip"])
    var zip = ZipWriter()
    zip.add("archive/version", Array("3".utf8))
    assertCheckpointError(try load("nopkl.pt", zip.data()), contains: ["nopkl.pt", "data.pkl"])
    zip.add("a/data.pkl", p.bytes)
    zip.add("b/data.pkl", p.bytes)
    assertCheckpointError(try load("twopkl.pt", zip.data()), contains: ["twopkl.pt", "several data.pkl"])
    // A forbidden global inside a real archive names the file.
    var evil = PickleBuilder()
    evil.global("os", "system")
    evil.stop()
    assertCheckpointError(try load("evil.pt", torchArchive(evil.bytes)), contains: ["evil.pt", "os.system"])
    assertCheckpointError(try TorchCheckpoint.load(dir.appendingPathComponent("absent.pt")), contains: ["absent.pt", "no such file"])
  }

  /// Seeded random corruption of a real data.pkl: refusal or success, never a crash.
  func testRandomCorruptionNeverCrashes() throws {
    let archive = try Data(contentsOf: try TestFixtures.url("synthetic-p2.pt"))
    // Python's zipfile writes stored entries with sizes in the local headers: walk them to get the pickle and
    // the storages with their real sizes.
    let bytes = [UInt8](archive)
    func le(_ at: Int, _ n: Int) -> Int { (0..<n).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) } }
    var entries: [String: Data] = [:]
    var at = 0
    while le(at, 4) == 0x0403_4B50 {
      let size = le(at + 18, 4), nameLength = le(at + 26, 2), start = at + 30 + nameLength + le(at + 28, 2)
      entries[String(decoding: bytes[(at + 30)..<(at + 30 + nameLength)], as: UTF8.self)] = Data(bytes[start..<(start + size)])
      at = start + size
    }
    let pickle = [UInt8](try XCTUnwrap(entries["archive/data.pkl"]))
    var storages: [String: Data] = [:]
    for (name, data) in entries where name.hasPrefix("archive/data/") { storages[String(name.dropFirst("archive/data/".count))] = data }
    XCTAssertEqual(storages.count, 21)  // w, w_t and w_tail share one storage
    XCTAssertEqual(try TorchCheckpoint.unpickle(pickle, storages: storages)["rng_state"]?.tensorValue?.shape, [5056])
    var state: UInt64 = 42
    func next() -> Int {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Int(truncatingIfNeeded: state >> 33)
    }
    var refused = 0
    for _ in 0..<1500 {
      var mutated = pickle
      for _ in 0..<(1 + next() % 4) { mutated[next() % mutated.count] = UInt8(truncatingIfNeeded: next()) }
      do {
        _ = try TorchCheckpoint.unpickle(mutated, path: "fuzz.pt", storages: storages)
      } catch let error as CheckpointError {
        refused += 1
        XCTAssertFalse(error.description.contains("\n"))
      }
    }
    XCTAssertGreaterThan(refused, 100)
  }
}
