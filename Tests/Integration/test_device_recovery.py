"""Devices that fail and come back, end to end: `serve --simulate --sim-fault shunt:reset@S` (a power cycle: the
INA226 back at its power-on registers, calibration 0) and `shunt:dead@A-B` (a shunt that stops answering and comes
back at its power-on state). The gateway sets the chip up again by itself, without a restart; the event log and
/healthz show it failed, then recovered, and the current it reports is right again."""
from conftest import SimulatedGateway, wait_for

# Noon: the sun drives a clear charge current, so an uncalibrated chip's 0 A cannot pass for a good reading.
# The BMS's staleness limit outlasts a loaded machine's hiccups at 60x.
CONFIG = "simulation:\n  start_hour: 12\nautomation:\n  stale_after_s: 600\n"


def statuses(g, subject):
    return [(e["online"], e["reason"]) for e in g.events("status") if e["subject"] == subject]


def currents_agree(state):
    """The shunt reads what flows: within half an ampere of the BMS's own measurement, and clearly not 0 A."""
    shunt, bms = state["shunt"], state["bms"]
    return (state["shunt_ok"] and bms is not None and abs(shunt["current_a"]) > 0.5
            and abs(shunt["current_a"] - bms["pack"]["current_a"]) < 0.5)


def test_power_cycled_shunt_and_display_are_set_up_again(dalygate, tmp_path):
    g = SimulatedGateway(dalygate, tmp_path, "--speed", "60", "--sim-fault", "shunt:reset@300",
                         "--sim-fault", "display:reset@420", config=CONFIG)
    try:
        assert wait_for(lambda: currents_agree(g.state()), 20), g.state()
        assert wait_for(lambda: any(online for online, _ in statuses(g, "shunt")[1:]), 40), g.output()
        shunt = statuses(g, "shunt")
        # Online at start, offline because the chip lost its set-up, online again.
        assert [online for online, _ in shunt] == [True, False, True], shunt
        assert "lost its set-up" in shunt[1][1] and "power-on value" in shunt[1][1], shunt
        assert wait_for(lambda: g.state()["uptime_s"] > 330, 20)
        assert currents_agree(g.state()), g.state()
        assert g.get("/healthz")[0] == 200
        # The OLED, power-cycled, says it went dark and is initialised again.
        assert wait_for(lambda: [online for online, _ in statuses(g, "display")] == [False, True], 30), g.output()
        assert "lost its set-up" in statuses(g, "display")[0][1]
        assert g.state()["display"]["online"] is True
    finally:
        g.stop()


def test_dead_shunt_comes_back_without_a_restart(dalygate, tmp_path):
    # Dead from 60 s to 600 s of simulated time (1 s to 10 s real at 60x); set up again within the 10 s retry.
    g = SimulatedGateway(dalygate, tmp_path, "--speed", "60", "--sim-fault", "shunt:dead@60-600", config=CONFIG)
    try:
        assert wait_for(lambda: not g.state()["shunt_ok"], 20), g.output()
        assert wait_for(lambda: g.get("/healthz")[0] == 503, 20)
        assert any(r.startswith("shunt data is") for r in g.get("/healthz")[1]["reasons"])
        assert wait_for(lambda: g.state()["shunt_ok"], 40), g.output()
        assert wait_for(lambda: currents_agree(g.state()), 10), g.state()
        assert wait_for(lambda: g.get("/healthz")[0] == 200, 10), g.get("/healthz")
        shunt = statuses(g, "shunt")
        assert [online for online, _ in shunt] == [True, False, True], shunt
        assert "acknowledge" in shunt[1][1], shunt
        assert "INA226 set up again" in g.output()
        assert g.process.poll() is None
    finally:
        g.stop()
