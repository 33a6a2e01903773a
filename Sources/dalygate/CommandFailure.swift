import ArgumentParser
import Foundation

/// Prints one line to standard error and exits non-zero: the CLI's only way to fail.
func fail(_ message: String, code: Int32 = 1) -> ExitCode {
    FileHandle.standardError.write(Data("dalygate: \(message)\n".utf8))
    return ExitCode(code)
}
