import Foundation
@testable import MQTTBridge
import Testing

@Suite("Discovery JSON")
struct DiscoveryJSONTests {
    @Test("keys are sorted byte by byte at every depth and slashes stay unescaped")
    func sortedAndUnescaped() {
        let bytes = DiscoveryJSON.bytes(["b": 1, "a_2": ["z": true, "Z": "x/y"], "a": [3, 2.5, "c/d"], "A": false])
        #expect(String(decoding: bytes, as: UTF8.self)
                == #"{"A":false,"a":[3,2.5,"c/d"],"a_2":{"Z":"x/y","z":true},"b":1}"#)
    }

    @Test("a document is never empty: other integer and float types are numbers, anything else and NaN are text")
    func neverEmpty() throws {
        let bytes = DiscoveryJSON.bytes(["small": UInt8(7), "wide": Int64(1) << 40, "huge": UInt64.max, "float": Float(0.5),
                                         "nan": Double.nan, "infinite": Double.infinity, "date": Date(timeIntervalSince1970: 0)])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(object["small"] as? Int == 7 && object["wide"] as? Int == 1 << 40 && object["float"] as? Double == 0.5)
        #expect(object["huge"] as? String == "18446744073709551615")
        #expect(object["nan"] as? String == "nan" && object["infinite"] as? String == "inf")
        #expect(object["date"] is String)
        let numbers = try #require(try JSONSerialization.jsonObject(with: Data(DiscoveryJSON.bytes(
            ["one": NSNumber(value: 1), "zero": NSNumber(value: 0), "half": NSNumber(value: 0.5), "yes": true]))) as? [String: Any])
        #expect(String(decoding: DiscoveryJSON.bytes(["one": NSNumber(value: 1), "zero": NSNumber(value: 0), "yes": true]), as: UTF8.self)
                == #"{"one":1,"yes":true,"zero":0}"#)
        #expect(numbers["half"] as? Double == 0.5)
    }
}
