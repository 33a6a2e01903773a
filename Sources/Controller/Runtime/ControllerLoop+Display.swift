import DeviceKit

/// The OLED: the display switch, the page rotation and the page contents, on the controller's thread.
extension ControllerLoop {
    func updateDisplay(uptime: Double, service: ControllerService) {
        let switchOn = peripherals.displaySwitch
        displayEnabled = switchOn
        switch rotation.tick(enabled: switchOn) {
        case .show(let page):
            displayLines = DisplayPages.lines(page: page, status: displayStatus(uptime: uptime, service: service))
            framebuffer.drawLines(displayLines)
            showFrame(uptime: uptime, service: service)
        case .clear:
            displayLines = []
            framebuffer.clear()
            showFrame(uptime: uptime, service: service)
        case .nothing:
            break
        }
    }

    /// Writes the framebuffer to the OLED (a failed write is the supervisor's to report and retry).
    func showFrame(uptime: Double, service: ControllerService) {
        peripherals.show(framebuffer, uptime: uptime, service: service)
    }

    func displayStatus(uptime: Double, service: ControllerService) -> DisplayStatus {
        var s = DisplayStatus()
        let links = service.linkState
        s.httpOK = links.http
        s.mqttOK = links.mqtt
        s.bmsOK = core.bmsOnline == true
        s.inaOK = core.shuntOnline == true
        if let bms = core.lastBMS {
            s.dalySOC = bms.pack?.socPercent
            s.dalyVoltage = bms.pack?.voltage
            s.dalyCurrent = bms.current
            s.dalyCellDifferenceV = bms.cellRange.map { Double($0.spreadMillivolts) / 1000 }
            s.chargeFET = bms.mosfets?.chargeMOS
            s.dischargeFET = bms.mosfets?.dischargeMOS
            s.alarms = (bms.alarms?.active ?? []) + core.gatewayAlarms
        }
        s.calculatedSOC = core.energy.soc
        // A frozen reading is never shown as current: with the INA226 silent, page 2 shows zeros (page 0: INA FAIL).
        let shunt = core.shuntOnline == true ? core.lastShunt : nil
        s.inaVoltage = shunt?.voltage ?? 0
        s.inaCurrent = shunt?.current ?? 0
        s.inaPower = core.energy.power
        s.load = core.relays[.load] ?? false
        s.balancer = core.relays[.balancer] ?? false
        s.uptimeSeconds = Int(uptime)
        return s
    }
}
