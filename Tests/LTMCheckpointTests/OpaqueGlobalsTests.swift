import Foundation
import XCTest

@testable import LTMCheckpoint

/// `opaqueGlobals` (Lightning `.ckpt` files): unknown classes become inert records of their pickled state, nothing is
/// called, back-references are cut, and tensor rebuild functions outside the allow-list are still refused.
final class OpaqueGlobalsTests: XCTestCase {
  private func unpickle(_ p: PickleBuilder) throws -> PickleValue {
    try TorchCheckpoint.unpickle(p.bytes, path: "x.ckpt", opaqueGlobals: true)
  }

  /// `Cls.__new__(Cls)` then BUILD {"a": 1, "_parent": <itself>}: OmegaConf's shape.
  func testInstancesAreRecordsAndCyclesAreCut() throws {
    var p = PickleBuilder(proto: 2)
    p.global("omegaconf.dictconfig", "DictConfig")
    p.emptyTuple()
    p.op(0x81)  // NEWOBJ
    p.put(0)
    p.emptyDict()
    p.string("a")
    p.int(1)
    p.setItem()
    p.string("_parent")
    p.get(0)
    p.setItem()
    p.build()
    p.stop()
    guard case .object(let type, let state?) = try unpickle(p) else { return XCTFail("an object with state expected") }
    XCTAssertEqual(type, "omegaconf.dictconfig.DictConfig")
    XCTAssertEqual(state["a"]?.intValue, 1)
    guard case .object(let parentType, nil)? = state["_parent"] else { return XCTFail("the back-reference is cut to its type") }
    XCTAssertEqual(parentType, type)
    // The same pickle without opaque globals is refused by name.
    assertCheckpointError(try TorchCheckpoint.unpickle(p.bytes, path: "x.ckpt"), contains: ["omegaconf.dictconfig.DictConfig", "refuses"])
  }

  /// A REDUCE of an opaque callable is recorded, not called; its arguments are dropped. Bare classes are records too.
  func testCallsAreNeverMade() throws {
    var p = PickleBuilder(proto: 2)
    p.mark()
    p.global("os", "system")
    p.string("echo pwned")
    p.tuple1()
    p.reduce()
    p.global("typing", "Any")
    p.tuple()
    p.stop()
    let items = try XCTUnwrap(try unpickle(p).arrayValue)
    guard case .object("os.system", nil) = items[0], case .object("typing.Any", nil) = items[1] else { return XCTFail("\(items)") }
  }

  func testTensorRebuildFunctionsOutsideTheAllowListStayRefused() {
    var p = PickleBuilder(proto: 2)
    p.global("torch._utils", "_rebuild_device_tensor_from_numpy")
    p.emptyTuple()
    p.reduce()
    p.stop()
    assertCheckpointError(try unpickle(p), contains: ["torch._utils._rebuild_device_tensor_from_numpy", "refuses"])
  }
}
