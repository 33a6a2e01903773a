import CLinuxHardware
import Glibc
import Workers

/// A pseudo-terminal pair whose slave is published at a path through a symlink: the simulator's "wire".
///
/// The master side is the simulated device; any serial client (DalyGate's, pyserial, minicom) opens the link. The
/// slave is kept open here too, so the master never sees EIO/hang-up while no client is connected, and it is put
/// in raw mode at once so that the line discipline never echoes or rewrites bytes.
public final class PseudoTerminal: Sendable {
    public let masterFD: Int32
    public let slavePath: String
    public let linkPath: String?
    private let slaveKeeper: Int32

    /// Opens a pty; with `linkPath`, replaces any symlink there with one to the slave (a non-link file is an error).
    public init(linkPath: String?) throws(Errno) {
        ProcessSignals.ignoreBrokenPipes()
        var name = [CChar](repeating: 0, count: 128)
        let master = gw_open_pty_master(&name, name.count)
        guard master >= 0 else { throw Errno(errno) }
        let slavePath = String(nulTerminated: name)
        let keeper = open(slavePath, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        guard keeper >= 0 else {
            let error = Errno(errno)
            Glibc.close(master)
            throw error
        }
        do {
            try TermiosSerialPort.configureRaw(fd: keeper, baud: 9600)
            let flags = fcntl(master, F_GETFL)
            _ = fcntl(master, F_SETFL, flags | O_NONBLOCK)
            if let linkPath { try Self.link(slavePath, at: linkPath) }
        } catch {
            Glibc.close(keeper)
            Glibc.close(master)
            throw error
        }
        self.masterFD = master
        self.slavePath = slavePath
        self.linkPath = linkPath
        self.slaveKeeper = keeper
    }

    private static func link(_ target: String, at path: String) throws(Errno) {
        var info = stat()
        if lstat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFLNK else { throw Errno(EEXIST) }
            unlink(path)
        }
        guard symlink(target, path) == 0 else { throw Errno(errno) }
    }

    /// Closes both sides and removes the link (only if it still points at this pty).
    public func close() {
        if let linkPath {
            var buffer = [CChar](repeating: 0, count: 256)
            let count = readlink(linkPath, &buffer, buffer.count - 1)
            if count > 0, String(nulTerminated: buffer) == slavePath { unlink(linkPath) }
        }
        Glibc.close(slaveKeeper)
        Glibc.close(masterFD)
    }
}
