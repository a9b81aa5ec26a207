// The library types the command line names: the options it fills in, the documents it prints and the events it
// draws. Re-exported one by one, so that `ltm-bench` imports this module alone and everything else stays behind it.

@_exported import struct LTMDownload.DataCache
@_exported import enum LTMDownload.DownloadEvent
@_exported import struct LTMDownload.DownloadSummary
@_exported import struct LTMDownload.ManifestFile
@_exported import struct LTMMauve.MauveSettings
@_exported import struct LTMMauve.MauveSeedSummary
@_exported import struct LTMModels.DiffusionBoundOptions
@_exported import struct LTMModels.DiffusionSamplingOptions
@_exported import struct LTMModels.LatentInferenceOptions
@_exported import enum LTMModels.LTMPosteriorInit
@_exported import struct LTMModels.ModelRunOptions
@_exported import struct LTMModels.SamplingSettings
@_exported import struct LTMReports.Comparison
@_exported import enum LTMReports.ComparisonFormatter
@_exported import struct LTMReports.ComparisonMetric
@_exported import struct LTMReports.ComparisonOptions
@_exported import enum LTMReports.CompareFailureMode
@_exported import enum LTMReports.ReportError
@_exported import struct LTMReports.PublishedTable
@_exported import struct LTMReports.ResultsDocument
@_exported import enum LTMReports.ShardMerge
@_exported import enum LTMReports.TextTable
@_exported import struct LTMTasks.BlockProtocol
@_exported import enum LTMTasks.ShotPool
