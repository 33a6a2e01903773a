import DalyProtocol
import Foundation
import Testing

/// The one decimal rule every module uses: JSON numbers never `-0`, fixed-point text as printf prints it.
@Suite("Decimals")
struct DecimalsTests {
    @Test("rounded keeps the source's digits and turns -0 into 0")
    func rounded() {
        #expect(Decimals.rounded(13.25749, 3) == 13.257)
        #expect(Decimals.rounded(-1.23456, 2) == -1.23)
        let zero = Decimals.rounded(-0.00004, 3)
        #expect(zero == 0 && zero.sign == .plus)
    }

    @Test("fixed prints what printf's %.nf prints", arguments: [0.0, 1.005, -2.5, 13.257, 0.125, 99.95, 3.2999, -13.0005, 1e12 + 0.5])
    func fixedMatchesPrintf(value: Double) {
        for digits in 0...3 {
            #expect(Decimals.fixed(value, digits, signedZero: true) == String(format: "%.\(digits)f", value), "\(value) \(digits)")
        }
    }

    @Test("fixed agrees with printf on a sweep of readings around every rounding tie")
    func fixedSweep() {
        var mismatches: [String] = []
        for step in -20_000...20_000 {
            let value = Double(step) * 0.0005 + Double(step % 7) * 1e-17
            for digits in 1...3 where Decimals.fixed(value, digits, signedZero: true) != String(format: "%.\(digits)f", value) {
                mismatches.append("\(value) \(digits)")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }

    @Test("a negative value that rounds to zero keeps its sign only when asked (Arduino yes, OLED no)")
    func signedZero() {
        #expect(Decimals.fixed(-0.004, 2, signedZero: true) == "-0.00")
        #expect(Decimals.fixed(-0.004, 2) == "0.00")
        #expect(Decimals.fixed(.nan, 2) == "nan" && Decimals.fixed(-.infinity, 1) == "-inf")
        #expect(Decimals.fixed(1e300, 2).hasPrefix("1e+300") || Decimals.fixed(1e300, 2).hasPrefix("1.0e+300"))
    }

    @Test("the cell spread is highest minus lowest, never wrapped")
    func spread() {
        #expect(CellVoltageRange(maxMillivolts: 3312, maxCell: 2, minMillivolts: 3300, minCell: 1).spreadMillivolts == 12)
        #expect(CellVoltageRange(maxMillivolts: 3300, maxCell: 2, minMillivolts: 3312, minCell: 1).spreadMillivolts == -12)
    }
}
