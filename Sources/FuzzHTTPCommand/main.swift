// libFuzzer entry point for FuzzTargets.httpCommand; `make fuzz` builds it with -sanitize=fuzzer and -DFUZZING.
import FuzzTargets

FuzzDriver.run(FuzzTargets.httpCommand)
