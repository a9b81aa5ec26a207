import Foundation

/// A restricted pickle decoder for what `torch.save` writes: tensors and plain containers.
///
/// Python's unpickler is a small virtual machine whose GLOBAL/REDUCE opcodes import and call arbitrary functions,
/// which is why loading an untrusted `.pt` file can run code. This decoder implements the data opcodes of protocols
/// 2–5 and resolves globals against a fixed allow-list (`collections.OrderedDict`, `torch._utils._rebuild_tensor_v2`,
/// `torch._utils._rebuild_parameter` and the `torch.*Storage` classes), each of which it interprets itself. Any other
/// global is refused with `CheckpointError.forbiddenGlobal` the moment it is named; nothing is ever executed.
///
/// With `opaqueGlobals` (Lightning `.ckpt` files, whose `hyper_parameters` hold OmegaConf objects) any other global
/// outside `torch._utils` becomes an opaque class name instead: instances built from it (REDUCE, NEWOBJ, BUILD)
/// are kept as `PickleValue.object(type:state:)` records of their pickled state, still never executed. Tensor
/// rebuild functions outside the allow-list stay refused, so no tensor can silently turn into an opaque record.
///
/// Objects are built as reference boxes first, because pickles memoize a container before filling it and may fetch
/// it again later; the finished graph is then converted to value-typed `PickleValue`s, with limits on depth and on
/// the total number of nodes so that cycles and shared-reference blow-ups are errors rather than hangs. Every box is
/// also kept in an arena and emptied one by one when decoding ends, so that neither a million-deep chain (a few bytes
/// per level) nor a reference cycle is left to Swift's recursive deallocation, which would overflow the stack or leak.
struct Unpickler {
  /// What a persistent id asked for: `('storage', <torch.XStorage>, key, location, numel)`.
  struct StorageRequest {
    var key: String
    var dtype: DType
    var storageClass: String
    var numel: Int
  }

  /// Nesting deeper than this (or a reference cycle) is refused when converting to `PickleValue`.
  static let maxDepth = 256
  /// Conversion copies shared sub-objects. Without sharing a pickle of n bytes holds fewer than n objects, so more
  /// than this many nodes (1M + 4 per byte) means a hostile web of memo references.
  var maxNodes: Int { 1_000_000 + 4 * code.count }

  let path: String
  private let code: [UInt8]
  private var pos = 0
  private var stack: [PyObject] = []
  /// Stack heights at each open MARK (Python keeps a "metastack" of stacks; heights are equivalent).
  private var marks: [Int] = []
  private var memo: [Int: PyObject] = [:]
  /// Every container box created, emptied by `releaseArena()`.
  private var arena: [PyBox] = []
  private let loadStorage: (StorageRequest) throws -> Data
  private var storages: [String: PyObject.Storage] = [:]
  /// Bytes that non-contiguous views may still allocate (they are copied out of their storages).
  private var materializeBudget: Int
  /// Unknown globals become opaque records instead of errors (see the type's documentation).
  var opaqueGlobals = false

  /// - Parameters:
  ///   - loadStorage: returns the bytes of a storage (called once per key; must check the size itself).
  ///   - materializeLimit: the most bytes all non-contiguous tensor views together may be copied into.
  init(_ code: [UInt8], path: String, materializeLimit: Int = 1 << 30, loadStorage: @escaping (StorageRequest) throws -> Data) {
    self.code = code
    self.path = path
    self.materializeBudget = materializeLimit
    self.loadStorage = loadStorage
  }

  /// Runs the pickle to STOP and returns the result as a `PickleValue`.
  mutating func load() throws -> PickleValue {
    defer { releaseArena() }
    let result = try run()
    var nodes = 0
    var objectPath = Set<ObjectIdentifier>()
    return try convert(result, depth: 0, nodes: &nodes, objectPath: &objectPath)
  }

  /// Breaks every link between boxes, iteratively, then drops the decoder's own references.
  private mutating func releaseArena() {
    stack.removeAll()
    memo.removeAll()
    storages.removeAll()
    for box in arena { box.clear() }
    arena.removeAll()
  }

  /// Registers a new box in the arena.
  private mutating func box<B: PyBox>(_ b: B) -> B {
    arena.append(b)
    return b
  }

  // MARK: - Opcode loop

  private mutating func run() throws -> PyObject {
    while true {
      let at = pos
      let op = try byte()
      switch op {
      case 0x80:  // PROTO
        let version = try byte()
        guard version <= 5 else { throw malformed("pickle protocol \(version) is newer than 5") }
      case 0x95:  // FRAME: a length prefix for buffered reading; the bytes follow inline.
        let length = try uint(8)
        guard length <= UInt64(code.count - pos) else { throw truncated(at, "FRAME", Int(clamping: length)) }
      case 0x28: marks.append(stack.count)  // MARK
      case 0x2E:  // STOP
        return try pop(at)
      case 0x30:  // POP
        if stack.count > (marks.last ?? 0) { stack.removeLast() } else { _ = try popMark(at) }
      case 0x31: _ = try popMark(at)  // POP_MARK
      case 0x32: push(try top(at))  // DUP
      case 0x7D: push(.dict(box(PyDict())))  // EMPTY_DICT
      case 0x5D: push(.list(box(PyList())))  // EMPTY_LIST
      case 0x29: push(.tuple(box(PyTuple())))  // EMPTY_TUPLE
      case 0x64:  // DICT
        let items = try popMark(at)
        let dict = box(PyDict())
        try setItems(dict, items, at)
        push(.dict(dict))
      case 0x6C: push(.list(box(PyList(try popMark(at)))))  // LIST
      case 0x74: push(.tuple(box(PyTuple(try popMark(at)))))  // TUPLE
      case 0x85: push(.tuple(box(PyTuple([try pop(at)]))))  // TUPLE1
      case 0x86:  // TUPLE2
        let b = try pop(at), a = try pop(at)
        push(.tuple(box(PyTuple([a, b]))))
      case 0x87:  // TUPLE3
        let c = try pop(at), b = try pop(at), a = try pop(at)
        push(.tuple(box(PyTuple([a, b, c]))))
      case 0x73:  // SETITEM
        let value = try pop(at), key = try pop(at)
        try setItems(try dictOnTop(at, "SETITEM"), [key, value], at)
      case 0x75:  // SETITEMS
        let items = try popMark(at)
        try setItems(try dictOnTop(at, "SETITEMS"), items, at)
      case 0x61:  // APPEND
        let value = try pop(at)
        try listOnTop(at, "APPEND").items.append(value)
      case 0x65:  // APPENDS
        let items = try popMark(at)
        try listOnTop(at, "APPENDS").items.append(contentsOf: items)
      case 0x4A: push(.int(Int(Int32(bitPattern: UInt32(try uint(4))))))  // BININT
      case 0x4B: push(.int(Int(try byte())))  // BININT1
      case 0x4D: push(.int(Int(try uint(2))))  // BININT2
      case 0x8A: push(.int(try long(count: Int(try byte()), at)))  // LONG1
      case 0x8B:  // LONG4
        let n = Int32(bitPattern: UInt32(try uint(4)))
        guard n >= 0 else { throw malformed("LONG4 at byte \(at) has a negative length") }
        push(.int(try long(count: Int(n), at)))
      case 0x47: push(.float(Double(bitPattern: try uintBigEndian(8))))  // BINFLOAT
      case 0x88: push(.bool(true))  // NEWTRUE
      case 0x89: push(.bool(false))  // NEWFALSE
      case 0x4E: push(.none)  // NONE
      case 0x58: push(.string(try text(length: try uint(4), at, "BINUNICODE")))
      case 0x8C: push(.string(try text(length: UInt64(try byte()), at, "SHORT_BINUNICODE")))
      case 0x8D: push(.string(try text(length: try uint(8), at, "BINUNICODE8")))
      case 0x42: push(.bytes(try bytes(length: try uint(4), at, "BINBYTES")))
      case 0x43: push(.bytes(try bytes(length: UInt64(try byte()), at, "SHORT_BINBYTES")))
      case 0x8E: push(.bytes(try bytes(length: try uint(8), at, "BINBYTES8")))
      case 0x96: push(.bytes(try bytes(length: try uint(8), at, "BYTEARRAY8")))
      case 0x71: memo[Int(try byte())] = try top(at)  // BINPUT
      case 0x72: memo[Int(try uint(4))] = try top(at)  // LONG_BINPUT
      case 0x94: memo[memo.count] = try top(at)  // MEMOIZE
      case 0x68: push(try memoGet(Int(try byte()), at))  // BINGET
      case 0x6A: push(try memoGet(Int(try uint(4)), at))  // LONG_BINGET
      case 0x63:  // GLOBAL
        let module = try line(at), name = try line(at)
        push(.global(try resolve(module: module, name: name)))
      case 0x93:  // STACK_GLOBAL
        let name = try pop(at), module = try pop(at)
        guard case .string(let m) = module, case .string(let n) = name else {
          throw malformed("STACK_GLOBAL at byte \(at) expects two strings")
        }
        push(.global(try resolve(module: m, name: n)))
      case 0x52:  // REDUCE
        let args = try pop(at), callable = try pop(at)
        guard case .tuple(let arguments) = args else { throw malformed("REDUCE at byte \(at) expects an argument tuple") }
        let argumentItems = arguments.items
        guard case .global(let global) = callable else { throw malformed("REDUCE at byte \(at) calls a value that is not a global") }
        push(try call(global, argumentItems, at))
      case 0x81:  // NEWOBJ: cls.__new__(cls, *args)
        let args = try pop(at), cls = try pop(at)
        if case .global(.opaque(let type)) = cls, case .tuple = args {
          push(.object(box(PyInstance(type: type))))
          break
        }
        guard case .global(.orderedDict) = cls, case .tuple = args else {
          throw malformed("NEWOBJ at byte \(at) may only create collections.OrderedDict")
        }
        push(.dict(box(PyDict())))
      case 0x62:  // BUILD
        let state = try pop(at)
        try build(try top(at), state: state, at)
      case 0x51:  // BINPERSID
        push(try persistentLoad(try pop(at), at))
      default:
        if let name = Self.unsupportedOpcodes[op] {
          throw malformed("opcode \(name) (0x\(String(op, radix: 16))) at byte \(at) is not supported")
        }
        throw malformed("unknown opcode 0x\(String(op, radix: 16, uppercase: false)) at byte \(at)")
      }
    }
  }

  /// Real pickle opcodes that torch.save never emits for tensors and plain containers.
  private static let unsupportedOpcodes: [UInt8: String] = [
    0x49: "INT", 0x4C: "LONG", 0x53: "STRING", 0x54: "BINSTRING", 0x55: "SHORT_BINSTRING", 0x56: "UNICODE",
    0x46: "FLOAT", 0x67: "GET", 0x70: "PUT", 0x50: "PERSID", 0x69: "INST", 0x6F: "OBJ", 0x82: "EXT1", 0x83: "EXT2",
    0x84: "EXT4", 0x8F: "EMPTY_SET", 0x90: "ADDITEMS", 0x91: "FROZENSET", 0x92: "NEWOBJ_EX", 0x97: "NEXT_BUFFER",
    0x98: "READONLY_BUFFER",
  ]

  // MARK: - Reading the byte stream

  private func malformed(_ reason: String) -> CheckpointError { .malformedPickle(path: path, reason: reason) }

  private func truncated(_ at: Int, _ what: String, _ needed: Int) -> CheckpointError {
    malformed("truncated: \(what) at byte \(at) needs \(needed) more bytes, \(code.count - pos) left")
  }

  private mutating func byte() throws -> UInt8 {
    guard pos < code.count else { throw malformed("truncated: the pickle ends at byte \(pos) without STOP") }
    defer { pos += 1 }
    return code[pos]
  }

  /// `count` little-endian bytes as an unsigned integer.
  private mutating func uint(_ count: Int) throws -> UInt64 {
    guard code.count - pos >= count else { throw truncated(pos - 1, "an argument", count) }
    var value: UInt64 = 0
    for i in 0..<count { value |= UInt64(code[pos + i]) << (8 * UInt64(i)) }
    pos += count
    return value
  }

  private mutating func uintBigEndian(_ count: Int) throws -> UInt64 {
    guard code.count - pos >= count else { throw truncated(pos - 1, "an argument", count) }
    var value: UInt64 = 0
    for i in 0..<count { value = value << 8 | UInt64(code[pos + i]) }
    pos += count
    return value
  }

  private mutating func slice(_ length: UInt64, _ at: Int, _ what: String) throws -> ArraySlice<UInt8> {
    guard length <= UInt64(code.count - pos) else { throw truncated(at, what, Int(clamping: length)) }
    let n = Int(length)
    defer { pos += n }
    return code[pos..<(pos + n)]
  }

  private mutating func text(length: UInt64, _ at: Int, _ what: String) throws -> String {
    let raw = try slice(length, at, what)
    guard let s = String(validating: raw, as: UTF8.self) else { throw malformed("\(what) at byte \(at) is not valid UTF-8") }
    return s
  }

  private mutating func bytes(length: UInt64, _ at: Int, _ what: String) throws -> [UInt8] {
    Array(try slice(length, at, what))
  }

  /// A GLOBAL argument: text up to a newline.
  private mutating func line(_ at: Int) throws -> String {
    guard let end = code[pos...].firstIndex(of: 0x0A) else { throw malformed("truncated: GLOBAL at byte \(at) has no newline") }
    let raw = code[pos..<end]
    pos = end + 1
    guard let s = String(validating: raw, as: UTF8.self) else { throw malformed("GLOBAL at byte \(at) is not valid UTF-8") }
    return s
  }

  /// Two's-complement little-endian integer of `count` bytes (LONG1/LONG4), which must fit in 64 bits.
  private mutating func long(count: Int, _ at: Int) throws -> Int {
    let raw = try slice(UInt64(count), at, "LONG")
    guard let last = raw.last else { return 0 }
    let negative = last & 0x80 != 0
    // Bytes beyond the eighth must be pure sign extension.
    if raw.count > 8 {
      let fill: UInt8 = negative ? 0xFF : 0
      guard raw.dropFirst(8).allSatisfy({ $0 == fill }), (raw[raw.startIndex + 7] & 0x80 != 0) == negative else {
        throw malformed("integer at byte \(at) does not fit in 64 bits")
      }
    }
    var value: UInt64 = negative ? ~0 : 0
    for (i, b) in raw.prefix(8).enumerated() {
      value &= ~(UInt64(0xFF) << (8 * UInt64(i)))
      value |= UInt64(b) << (8 * UInt64(i))
    }
    return Int(Int64(bitPattern: value))
  }

  // MARK: - Stack

  private mutating func push(_ o: PyObject) { stack.append(o) }

  /// Pops from the current frame (above the innermost MARK), as Python's per-mark stacks do.
  private mutating func pop(_ at: Int) throws -> PyObject {
    guard stack.count > (marks.last ?? 0) else { throw malformed("stack underflow at byte \(at)") }
    return stack.removeLast()
  }

  private func top(_ at: Int) throws -> PyObject {
    guard stack.count > (marks.last ?? 0), let o = stack.last else { throw malformed("stack underflow at byte \(at)") }
    return o
  }

  private mutating func popMark(_ at: Int) throws -> [PyObject] {
    guard let mark = marks.popLast() else { throw malformed("opcode at byte \(at) needs a MARK, but none is open") }
    let items = Array(stack[mark...])
    stack.removeSubrange(mark...)
    return items
  }

  private func memoGet(_ index: Int, _ at: Int) throws -> PyObject {
    guard let o = memo[index] else { throw malformed("memo entry \(index) fetched at byte \(at) was never stored") }
    return o
  }

  private func dictOnTop(_ at: Int, _ op: String) throws -> PyDict {
    // An opaque instance (a dict subclass such as defaultdict) keeps its items beside its state.
    if case .object(let o) = try top(at) { return o.items }
    guard case .dict(let d) = try top(at) else { throw malformed("\(op) at byte \(at) applies to something that is not a dict") }
    return d
  }

  private func listOnTop(_ at: Int, _ op: String) throws -> PyList {
    if case .object(let o) = try top(at) { return o.elements }
    guard case .list(let l) = try top(at) else { throw malformed("\(op) at byte \(at) applies to something that is not a list") }
    return l
  }

  private func setItems(_ dict: PyDict, _ items: [PyObject], _ at: Int) throws {
    guard items.count % 2 == 0 else { throw malformed("odd number of items for a dict at byte \(at)") }
    for i in stride(from: 0, to: items.count, by: 2) {
      guard let key = HashKey(items[i], depth: 0) else { throw malformed("unhashable dict key at byte \(at)") }
      dict.set(key, items[i], items[i + 1])
    }
  }

  // MARK: - Globals

  private func resolve(module: String, name: String) throws -> PyObject.Global {
    switch (module, name) {
    case ("collections", "OrderedDict"): return .orderedDict
    case ("torch._utils", "_rebuild_tensor_v2"): return .rebuildTensorV2
    case ("torch._utils", "_rebuild_parameter"): return .rebuildParameter
    case ("torch", _) where name.hasSuffix("Storage"):
      guard let dtype = Self.storageTypes[name] else {
        throw CheckpointError.unsupportedDType(path: path, tensor: "", dtype: "torch.\(name)")
      }
      return .storageType(dtype, "torch.\(name)")
    default:
      if opaqueGlobals && module != "torch._utils" { return .opaque("\(module).\(name)") }
      throw CheckpointError.forbiddenGlobal(path: path, name: "\(module).\(name)")
    }
  }

  static let storageTypes: [String: DType] = [
    "FloatStorage": .f32, "HalfStorage": .f16, "BFloat16Storage": .bf16, "DoubleStorage": .f64,
    "LongStorage": .i64, "IntStorage": .i32, "ShortStorage": .i16, "CharStorage": .i8, "ByteStorage": .u8,
    "BoolStorage": .bool,
  ]

  private mutating func call(_ global: PyObject.Global, _ args: [PyObject], _ at: Int) throws -> PyObject {
    switch global {
    case .orderedDict:
      let dict = box(PyDict())
      if args.isEmpty { return .dict(dict) }
      // OrderedDict(iterable of pairs)
      guard args.count == 1, let pairs = args[0].sequence else {
        throw malformed("collections.OrderedDict at byte \(at) called with unsupported arguments")
      }
      for pair in pairs {
        guard let kv = pair.sequence, kv.count == 2 else { throw malformed("OrderedDict item at byte \(at) is not a pair") }
        try setItems(dict, kv, at)
      }
      return .dict(dict)
    case .rebuildTensorV2:
      return .tensor(try rebuildTensor(args, at))
    case .rebuildParameter:
      // (data, requires_grad, backward_hooks): a Parameter is its data for our purposes.
      guard args.count == 3, case .tensor(let t) = args[0] else {
        throw malformed("torch._utils._rebuild_parameter at byte \(at) expects (tensor, requires_grad, hooks)")
      }
      return .tensor(t)
    case .storageType(_, let name):
      throw malformed("\(name) is called at byte \(at); it may only appear in a persistent id")
    case .opaque(let type):
      // Recorded, never called: the arguments are dropped, a later BUILD may attach state.
      return .object(box(PyInstance(type: type)))
    }
  }

  /// BUILD sets instance state. torch.save uses it for the `_metadata` attribute of state-dict OrderedDicts,
  /// which carries module versions only; it is dropped.
  private func build(_ target: PyObject, state: PyObject, _ at: Int) throws {
    if case .object(let o) = target {
      o.state = state
      return
    }
    guard case .dict = target else { throw malformed("BUILD at byte \(at) applies to something that is not an OrderedDict") }
  }

  // MARK: - Storages and tensors

  private mutating func persistentLoad(_ pid: PyObject, _ at: Int) throws -> PyObject {
    let t = pid.tupleItems ?? []
    guard t.count == 5, case .string("storage") = t[0] else {
      throw malformed("unsupported persistent id at byte \(at) (expected ('storage', type, key, location, numel))")
    }
    guard case .global(.storageType(let dtype, let className)) = t[1], case .string(let key) = t[2],
      case .string = t[3], case .int(let numel) = t[4], numel >= 0
    else {
      throw malformed("malformed storage persistent id at byte \(at)")
    }
    guard numel <= Int.max / dtype.byteSize else {
      throw malformed("storage \(key) declares \(numel) elements, more than any file can hold (at byte \(at))")
    }
    if let cached = storages[key] {
      guard cached.dtype == dtype, cached.numel == numel else {
        throw malformed("storage \(key) is declared twice with different types or sizes (at byte \(at))")
      }
      return .storage(cached)
    }
    let data = try loadStorage(StorageRequest(key: key, dtype: dtype, storageClass: className, numel: numel))
    guard data.count == numel * dtype.byteSize else {
      throw CheckpointError.badTensor(
        path: path, tensor: "storage \(key)",
        reason: "holds \(data.count) bytes, but its persistent id declares \(numel) × \(dtype.byteSize)")
    }
    let storage = PyObject.Storage(key: key, dtype: dtype, numel: numel, bytes: data)
    storages[key] = storage
    return .storage(storage)
  }

  /// `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])`.
  private mutating func rebuildTensor(_ args: [PyObject], _ at: Int) throws -> RawTensor {
    guard args.count == 6 || args.count == 7 else {
      throw malformed("torch._utils._rebuild_tensor_v2 at byte \(at) expects 6 or 7 arguments, got \(args.count)")
    }
    guard case .storage(let storage) = args[0] else {
      throw malformed("torch._utils._rebuild_tensor_v2 at byte \(at): the first argument is not a storage")
    }
    guard case .int(let offset) = args[1], let size = args[2].intTuple, let stride = args[3].intTuple else {
      throw malformed("torch._utils._rebuild_tensor_v2 at byte \(at): offset, size and stride must be integers")
    }
    let name = contextName()
    return try TensorMaterializer.view(
      storage: storage, offset: offset, size: size, stride: stride, path: path,
      name: name.isEmpty ? "storage \(storage.key)" : "\(name) (storage \(storage.key))", budget: &materializeBudget)
  }

  /// The dict key under which the tensor being rebuilt will be stored, for error messages: torch.save pushes the
  /// key just before building the value, so it is the nearest string below the callable on the stack.
  private func contextName() -> String {
    // Stack now: [..., key?, (outer globals / marks ...)]; the callable and args were already popped.
    for o in stack.suffix(3).reversed() {
      if case .string(let s) = o { return s }
    }
    return ""
  }

  // MARK: - Conversion to values

  private func convert(_ o: PyObject, depth: Int, nodes: inout Int, objectPath: inout Set<ObjectIdentifier>) throws -> PickleValue {
    nodes += 1
    guard nodes <= maxNodes else {
      throw malformed("the pickle expands to more than \(maxNodes) objects (shared references)")
    }
    guard depth <= Self.maxDepth else {
      throw malformed("containers nest deeper than \(Self.maxDepth) levels (or refer to themselves)")
    }
    switch o {
    case .none: return .none
    case .bool(let b): return .bool(b)
    case .int(let i): return .int(i)
    case .float(let d): return .float(d)
    case .string(let s): return .string(s)
    case .bytes(let b): return .bytes(b)
    case .tensor(let t): return .tensor(t)
    case .tuple(let t): return .tuple(try t.items.map { try convert($0, depth: depth + 1, nodes: &nodes, objectPath: &objectPath) })
    case .list(let l): return .list(try l.items.map { try convert($0, depth: depth + 1, nodes: &nodes, objectPath: &objectPath) })
    case .dict(let d):
      return .dict(try d.entries.map {
        (key: try convert($0.key, depth: depth + 1, nodes: &nodes, objectPath: &objectPath), value: try convert($0.value, depth: depth + 1, nodes: &nodes, objectPath: &objectPath))
      })
    case .global(.opaque(let type)): return .object(type: type, state: nil)
    case .global(let g): throw malformed("the pickle leaves \(g.name) itself in a value, not something built from it")
    case .object(let instance):
      // A reference back to an instance being converted (OmegaConf's `_parent`) is cut to its type name.
      let id = ObjectIdentifier(instance)
      guard !objectPath.contains(id) else { return .object(type: instance.type, state: nil) }
      objectPath.insert(id)
      defer { objectPath.remove(id) }
      var state = try instance.state.map { try convert($0, depth: depth + 1, nodes: &nodes, objectPath: &objectPath) }
      if state == nil, !instance.items.entries.isEmpty {
        state = try convert(.dict(instance.items), depth: depth + 1, nodes: &nodes, objectPath: &objectPath)
      } else if state == nil, !instance.elements.items.isEmpty {
        state = try convert(.list(instance.elements), depth: depth + 1, nodes: &nodes, objectPath: &objectPath)
      }
      return .object(type: instance.type, state: state)
    case .storage(let s): throw malformed("storage \(s.key) is used outside a tensor")
    }
  }
}

// MARK: - Object graph during decoding

/// A decoded object before conversion. Containers are boxes so that memoized references share identity (and so that
/// this enum never nests: the depth lives in the boxes, which the arena empties without recursion).
enum PyObject {
  /// The globals the decoder understands.
  enum Global {
    case orderedDict, rebuildTensorV2, rebuildParameter
    case storageType(DType, String)
    /// A class or function outside the allow-list, named only (`opaqueGlobals`).
    case opaque(String)

    var name: String {
      switch self {
      case .orderedDict: return "collections.OrderedDict"
      case .rebuildTensorV2: return "torch._utils._rebuild_tensor_v2"
      case .rebuildParameter: return "torch._utils._rebuild_parameter"
      case .storageType(_, let n): return n
      case .opaque(let n): return n
      }
    }
  }

  /// A loaded storage: `numel` elements of `dtype`, exactly `numel * dtype.byteSize` bytes.
  struct Storage {
    var key: String
    var dtype: DType
    var numel: Int
    var bytes: Data
  }

  case none
  case bool(Bool)
  case int(Int)
  case float(Double)
  case string(String)
  case bytes([UInt8])
  case tuple(PyTuple)
  case list(PyList)
  case dict(PyDict)
  case tensor(RawTensor)
  case global(Global)
  case storage(Storage)
  /// An instance of an opaque class (`opaqueGlobals`).
  case object(PyInstance)

  /// Items of a list or tuple.
  var sequence: [PyObject]? {
    switch self {
    case .tuple(let t): return t.items
    case .list(let l): return l.items
    default: return nil
    }
  }

  /// Items of a tuple only.
  var tupleItems: [PyObject]? {
    if case .tuple(let t) = self { return t.items }
    return nil
  }

  /// A tuple (or list) of ints, as torch writes sizes and strides.
  var intTuple: [Int]? {
    guard let items = sequence else { return nil }
    var out: [Int] = []
    out.reserveCapacity(items.count)
    for item in items {
      guard case .int(let i) = item else { return nil }
      out.append(i)
    }
    return out
  }
}

/// A container box. `clear()` drops the references it holds, so boxes can be released one at a time.
class PyBox {
  func clear() {}
}

final class PyList: PyBox {
  var items: [PyObject]
  init(_ items: [PyObject] = []) { self.items = items }
  override func clear() { items.removeAll() }
}

/// Tuples are immutable in Python; they are boxes here only so that nesting depth never lives in a Swift value.
final class PyTuple: PyBox {
  private(set) var items: [PyObject]
  init(_ items: [PyObject] = []) { self.items = items }
  override func clear() { items.removeAll() }
}

/// An instance of a class the decoder does not know: its type name and pickled state, never executed.
final class PyInstance: PyBox {
  let type: String
  var state: PyObject?
  /// SETITEM(S) / APPEND(S) on a dict or list subclass.
  let items = PyDict()
  let elements = PyList()
  init(type: String) { self.type = type }
  override func clear() {
    state = nil
    items.clear()
    elements.clear()
  }
}

/// An insertion-ordered dict; setting an existing key replaces its value in place, as in Python.
final class PyDict: PyBox {
  private(set) var entries: [(key: PyObject, value: PyObject)] = []
  private var index: [HashKey: Int] = [:]

  func set(_ hashKey: HashKey, _ key: PyObject, _ value: PyObject) {
    if let i = index[hashKey] {
      entries[i].value = value
    } else {
      index[hashKey] = entries.count
      entries.append((key, value))
    }
  }

  override func clear() {
    entries.removeAll()
    index.removeAll()
  }
}

/// Python's key equality for the key types a checkpoint can hold (bool == int, integral float == int).
enum HashKey: Hashable {
  case none
  case int(Int)
  case float(UInt64)
  case string(String)
  case bytes([UInt8])
  indirect case tuple([HashKey])

  /// nil for unhashable values, and for tuples nested deeper than `Unpickler.maxDepth` (hostile).
  init?(_ o: PyObject, depth: Int) {
    guard depth <= Unpickler.maxDepth else { return nil }
    switch o {
    case .none: self = .none
    case .bool(let b): self = .int(b ? 1 : 0)
    case .int(let i): self = .int(i)
    case .float(let d):
      if d == d.rounded(), let i = Int(exactly: d) { self = .int(i) } else { self = .float(d.bitPattern) }
    case .string(let s): self = .string(s)
    case .bytes(let b): self = .bytes(b)
    case .tuple(let t):
      var keys: [HashKey] = []
      for item in t.items {
        guard let k = HashKey(item, depth: depth + 1) else { return nil }
        keys.append(k)
      }
      self = .tuple(keys)
    case .list, .dict, .tensor, .global, .storage, .object: return nil
    }
  }
}
