import Glibc
#if FUZZING
import Synchronization

@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

/// The target the running fuzzer feeds: set once by ``FuzzDriver/run(_:)`` before libFuzzer starts.
private let currentTarget = Mutex<(@Sendable ([UInt8]) -> Void)?>(nil)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    currentTarget.withLock { $0 }?(bytes)
    return 0
}
#endif

/// The libFuzzer entry point every fuzz executable shares: each main.swift names only its target. Built with
/// `make fuzz` (-sanitize=fuzzer -DFUZZING) it hands the command line to libFuzzer; otherwise it says how to build it.
public enum FuzzDriver {
    public static func run(_ target: @escaping @Sendable ([UInt8]) -> Void) -> Never {
        #if FUZZING
        currentTarget.withLock { $0 = target }
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOne))
        #else
        print("This fuzz target runs only when built by 'make fuzz' (-sanitize=fuzzer -DFUZZING).")
        exit(0)
        #endif
    }
}
