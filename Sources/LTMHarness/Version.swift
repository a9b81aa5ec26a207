/// The tool version written into every report.
public enum LTMBenchVersion {
  public static let current = "0.1.0"
}
