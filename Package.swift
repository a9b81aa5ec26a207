// swift-tools-version:6.0
// ltm-bench: evaluation and benchmarking harness for Latent Thought Models and their baselines.
// Module map (each line: target — purpose):
//   CBLAS          — OpenBLAS through pkg-config `openblas` (system library).
//   CLTMPlatform   — CPUID feature bits, the affinity mask, and the AVX2/baseline row kernels (C: Swift has no
//                    cpuid, CPU_COUNT or per-function target attributes).
//   LTMTensor      — dense fp32 tensors, sgemm wrapper, elementwise/row kernels on unsafe buffers.
//   LTMCheckpoint  — safetensors (single and sharded), torch.save zip + safe unpickler, key-mapping (WeightMap).
//   LTMTokenizer   — GPT-2 byte-level BPE (vocab.json+merges.txt, encoder.json+vocab.bpe, .tiktoken).
//   LTMModels      — one folder per model family behind the capability protocols of Core/ and the registry (Yams:
//                    training runs keep their config as YAML).
//   LTMTasks       — task YAML specs, dataset readers, detokenizers, block protocols (ltm, mdlm), few-shot tasks.
//   LTMMetrics     — perplexity aggregation (token-weighted, block-mean) and bound labelling.
//   LTMMauve       — MAUVE from features, equal to mauve-text 0.4.0 (float64 LAPACK PCA, faiss-exact k-means).
//   LTMReports     — results.json schema and the self-contained HTML report.
//   LTMDownload    — dataset manifest, verified download cache (URLSession, resumable), zip/tar.gz members, hub models.
//   LTMHarness     — orchestration (zero-shot runs, resume journal, benchmarks); never prints.
//   ltm-bench      — thin command-line front end (swift-argument-parser).
import Foundation
import PackageDescription

let package = Package(
  name: "ltm-bench",
  products: [
    .executable(name: "ltm-bench", targets: ["ltm-bench"]),
    .library(name: "LTMHarness", targets: ["LTMHarness"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
    .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
    .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
  ],
  targets: [
    .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
    .target(name: "CLTMPlatform"),
    // One check for every file name that comes from outside (hub listings, shard indexes, task and manifest files).
    .target(name: "LTMPaths"),
    // What this process may use (CPUs, memory), cgroup limits counted: sizes from files are checked against it.
    .target(name: "LTMProcessLimits", dependencies: ["CLTMPlatform"]),
    .target(
      name: "LTMTensor",
      dependencies: ["CBLAS", "CLTMPlatform", "LTMProcessLimits", .product(name: "Numerics", package: "swift-numerics")]),
    .target(
      name: "LTMCheckpoint",
      dependencies: ["LTMPaths", "LTMProcessLimits", .product(name: "ZIPFoundation", package: "ZIPFoundation")]),
    .target(name: "LTMTokenizer"),
    .target(
      name: "LTMModels",
      dependencies: ["LTMTensor", "LTMCheckpoint", "LTMTokenizer", "LTMMetrics", "Yams"]),
    .target(name: "LTMTasks", dependencies: ["LTMPaths", "Yams", .product(name: "Mustache", package: "swift-mustache")]),
    .target(name: "LTMMetrics"),
    .target(name: "LTMMauve", dependencies: ["LTMTensor", "LTMCheckpoint", "CBLAS", "CLTMPlatform"]),
    .target(
      name: "LTMReports",
      dependencies: ["LTMMetrics", "LTMTensor", "Yams", .product(name: "Mustache", package: "swift-mustache")]),
    .target(
      name: "LTMDownload",
      dependencies: [
        "LTMPaths", "Yams", .product(name: "Crypto", package: "swift-crypto"), .product(name: "ZIPFoundation", package: "ZIPFoundation"),
      ]),
    .target(
      name: "LTMHarness",
      dependencies: [
        "LTMTensor", "LTMCheckpoint", "LTMTokenizer", "LTMModels", "LTMTasks", "LTMMetrics", "LTMReports", "LTMMauve",
        "LTMDownload", "LTMProcessLimits",
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "Mustache", package: "swift-mustache"),
      ]),
    .executableTarget(
      name: "ltm-bench",
      dependencies: ["LTMHarness", .product(name: "ArgumentParser", package: "swift-argument-parser")]),

    // Test support: locating ../shared, tolerance helpers. Not shipped in the product.
    .target(name: "LTMTestSupport"),
    .testTarget(name: "LTMPathsTests", dependencies: ["LTMPaths"]),
    .testTarget(name: "LTMTensorTests", dependencies: ["LTMTensor", "LTMProcessLimits", "CLTMPlatform", "LTMTestSupport"]),
    .testTarget(name: "LTMCheckpointTests", dependencies: ["LTMCheckpoint", "LTMProcessLimits", "LTMTestSupport"], exclude: ["Fixtures"]),
    .testTarget(name: "LTMTokenizerTests", dependencies: ["LTMTokenizer", "LTMTestSupport"], exclude: ["Fixtures"]),
    .testTarget(name: "LTMModelsTests", dependencies: ["LTMModels", "LTMTestSupport"], exclude: ["Fixtures"]),
    .testTarget(name: "LTMTasksTests", dependencies: ["LTMTasks", "LTMTestSupport"], exclude: ["Fixtures"]),
    .testTarget(name: "LTMMetricsTests", dependencies: ["LTMMetrics", "LTMTestSupport"]),
    // ZIPFoundation only to inflate the PNG that the headless-Chromium test renders.
    .testTarget(
      name: "LTMReportsTests",
      dependencies: ["LTMReports", "LTMMetrics", "LTMTestSupport", .product(name: "ZIPFoundation", package: "ZIPFoundation")],
      exclude: ["Fixtures"]),
    // Yams reads the Kubernetes manifests that ClusterRecipeTests checks against the Slurm scripts.
    .testTarget(
      name: "LTMHarnessTests", dependencies: ["LTMHarness", "LTMReports", "LTMMetrics", "LTMModels", "LTMTensor", "LTMProcessLimits", "LTMTestSupport", "Yams"],
      exclude: ["Fixtures"]),
    // ZIPFoundation builds the zip archives the tests serve; LTMModels loads the model a fake hub served.
    .testTarget(
      name: "LTMDownloadTests",
      dependencies: [
        "LTMDownload", "LTMHarness", "LTMModels", "LTMTestSupport", .product(name: "ZIPFoundation", package: "ZIPFoundation"),
      ]),
    .testTarget(name: "LTMMauveTests", dependencies: ["LTMMauve", "LTMCheckpoint", "LTMTestSupport", "CBLAS"]),
  ],
  swiftLanguageModes: [.v5]
)

// libFuzzer targets (tools/fuzz.sh), only when LTM_BENCH_FUZZ is set: they are built with -sanitize=fuzzer into their
// own build folder and never take part in the normal build or tests.
if ProcessInfo.processInfo.environment["LTM_BENCH_FUZZ"] != nil {
  let fuzzed: [(String, [Target.Dependency])] = [
    ("FuzzSafetensors", ["LTMCheckpoint", "FuzzSupport"]), ("FuzzPickle", ["LTMCheckpoint", "FuzzSupport"]), ("FuzzTorchZip", ["LTMCheckpoint", "FuzzSupport"]),
    ("FuzzNPY", ["LTMMauve", "FuzzSupport"]), ("FuzzTokenizer", ["LTMTokenizer", "FuzzSupport"]), ("FuzzTiktoken", ["LTMTokenizer", "FuzzSupport"]),
    ("FuzzTaskYAML", ["LTMTasks", "LTMReports", "FuzzSupport"]), ("FuzzFewShotTask", ["LTMTasks", "FuzzSupport"]), ("FuzzFewShotRows", ["LTMTasks", "FuzzSupport"]),
    ("FuzzResults", ["LTMReports", "FuzzSupport"]), ("FuzzCacheLine", ["LTMHarness", "LTMMetrics", "FuzzSupport"]),
  ]
  package.targets.append(.target(name: "FuzzSupport", path: "Fuzz/FuzzSupport"))
  for (name, dependencies) in fuzzed {
    package.targets.append(.executableTarget(name: name, dependencies: dependencies, path: "Fuzz/\(name)"))
    package.products.append(.executable(name: name, targets: [name]))
  }
}
