import CLinuxHardware
import Glibc

/// glibc malloc settings for a small daemon whose threads mostly wait (Swift's Glibc module does not export
/// <malloc.h>). Call before the second thread starts.
public enum MallocSettings {
    /// At most `arenas` malloc arenas instead of up to 8 per core, each of which keeps freed memory of its own.
    public static func applyDaemonDefaults(arenas: Int32 = 2) {
        mallopt(M_ARENA_MAX, arenas)
    }
}
