// Placeholder: orchestration of zero-shot runs and benchmarks (see issue 2).
@_exported import LTMModels
