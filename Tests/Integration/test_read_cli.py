"""`dalygate read` and `dalygate sim-bms` end to end, as a user runs them, cross-checked with python-daly-bms."""
import json
import subprocess

import pytest

FAULTS = ["sleep", "echo", "drop", "truncate", "corrupt", "filler", "late", "stale", "garbage"]


def read(dalygate, link, *args, timeout=60):
    return subprocess.run([str(dalygate), "read", "--port", str(link), *args],
                          capture_output=True, text=True, timeout=timeout)


def test_read_json_of_a_16_cell_pack(dalygate, sim_bms):
    sim = sim_bms("--cells", "16", "--temps", "2", "--soc", "64.2", "--current=-7.5")
    result = read(dalygate, sim.link, "--json")
    assert result.returncode == 0, result.stderr
    reading = json.loads(result.stdout)
    assert reading["cells"]["count"] == 16
    assert len(reading["cells"]["voltages_mv"]) == 16
    assert reading["pack"]["voltage_v"] == sum(reading["cells"]["voltages_mv"]) // 100 / 10
    assert reading["pack"]["current_a"] == -7.5
    assert reading["pack"]["soc_pct"] == 64.2
    assert reading["pack"]["state"] == "discharge"
    assert reading["temperatures"]["sensors_c"] == [25, 26]
    assert reading["mosfets"]["charge"] is True and reading["mosfets"]["discharge"] is True
    assert reading["alarms"] == {"active": [], "fault_code": 0}


def test_independent_python_client_agrees(dalygate, sim_bms):
    sim = sim_bms("--cells", "16", "--soc", "77.1", "--current=3.2")
    ours = json.loads(read(dalygate, sim.link, "--json").stdout)
    theirs_run = subprocess.run(["daly-bms-cli", "-d", str(sim.link), "--all"],
                                capture_output=True, text=True, timeout=120)
    assert theirs_run.returncode == 0, theirs_run.stderr
    theirs = json.loads(theirs_run.stdout)
    assert theirs["soc"]["total_voltage"] == ours["pack"]["voltage_v"]
    assert theirs["soc"]["current"] == ours["pack"]["current_a"]
    assert theirs["soc"]["soc_percent"] == ours["pack"]["soc_pct"]
    assert theirs["mosfet_status"]["charging_mosfet"] == ours["mosfets"]["charge"]
    assert theirs["mosfet_status"]["discharging_mosfet"] == ours["mosfets"]["discharge"]
    assert [round(v * 1000) for v in theirs["cell_voltages"].values()] == ours["cells"]["voltages_mv"]
    assert theirs["cell_voltage_range"]["highest_cell"] == ours["cells"]["max_cell"]
    assert theirs["status"]["cells"] == ours["cells"]["count"]


def test_python_client_mosfet_write_seen_by_our_read(dalygate, sim_bms):
    sim = sim_bms("--cells", "4")
    # daly-bms-cli exits 1 after every MOSFET write (its setter returns None), so only the effect is checked.
    subprocess.run(["daly-bms-cli", "-d", str(sim.link), "--set-charge-mosfet", "off"],
                   capture_output=True, text=True, timeout=60)
    reading = json.loads(read(dalygate, sim.link, "--json").stdout)
    assert reading["mosfets"]["charge"] is False


def test_text_output_is_readable(dalygate, sim_bms):
    sim = sim_bms("--cells", "4", "--address-mode", "0x80")
    result = read(dalygate, sim.link, "--address", "0x80")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith("Pack      13.1 V")
    assert "Cells     4: 3299 3300 3301 3299 mV" in result.stdout


# What each fault, present on every reply, must give: a correct reading (the client recovers: filler is skipped,
# stale and garbage frames are rejected and asked again), or the one line naming that failure.
FAULT_OUTCOMES = {
    "sleep": "no reply from BMS", "drop": "no reply from BMS", "late": "no reply from BMS",
    "echo": "echoes 0x90 pack measurements back", "truncate": "incomplete replies from BMS",
    "corrupt": "corrupted replies from BMS", "filler": None, "stale": None, "garbage": None,
}


@pytest.mark.parametrize("fault", FAULTS)
def test_every_fault_gives_its_correct_reading_or_its_clear_line(dalygate, sim_bms, fault):
    sim = sim_bms("--cells", "8", "--fault", fault)
    result = read(dalygate, sim.link, "--json", "--timeout-ms", "200")
    expected = FAULT_OUTCOMES[fault]
    if expected is None:
        assert result.returncode == 0, result.stderr
        reading = json.loads(result.stdout)
        assert reading["cells"]["voltages_mv"] == [3299, 3300, 3301] * 2 + [3299, 3300]
        assert reading["pack"]["soc_pct"] == 50
    else:
        assert result.returncode != 0, result.stdout
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("dalygate: ") and expected in lines[0], lines[0]
        assert result.stdout == ""


@pytest.mark.parametrize("fault", FAULTS)
def test_intermittent_faults_are_retried_to_a_correct_reading(dalygate, sim_bms, fault):
    sim = sim_bms("--cells", "8", "--fault", f"{fault}:0.25", "--seed", "3")
    result = read(dalygate, sim.link, "--json", "--timeout-ms", "200", "--attempts", "6")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["cells"]["voltages_mv"] == [3299, 3300, 3301] * 2 + [3299, 3300]


def test_missing_port_is_one_clear_line(dalygate, tmp_path):
    result = read(dalygate, tmp_path / "nothing.tty")
    assert result.returncode != 0
    assert result.stderr.strip() == (f"dalygate: {tmp_path / 'nothing.tty'}: no such device: "
                                      "is the adapter plugged in and the path right?")


def test_wrong_host_address_names_the_fix(dalygate, sim_bms):
    sim = sim_bms("--address-mode", "0x40")
    result = read(dalygate, sim.link, "--address", "0x80", "--timeout-ms", "100", "--attempts", "1")
    assert result.returncode != 0
    assert "no reply from BMS" in result.stderr and "0x40/0x80" in result.stderr


def test_sim_bms_rejects_unknown_faults(dalygate, tmp_path):
    result = subprocess.run([str(dalygate), "sim-bms", "--link", str(tmp_path / "x"), "--fault", "gremlins"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "unknown fault 'gremlins'" in result.stderr


def test_read_board_2_of_a_three_board_bus(dalygate, sim_bms):
    sim = sim_bms("--boards", "3", "--cells", "4", "--soc", "60")
    readings = {}
    for board in (1, 2, 3):
        result = read(dalygate, sim.link, "--board", str(board), "--json")
        assert result.returncode == 0, result.stderr
        readings[board] = json.loads(result.stdout)
    # Board b of the simulated bus: +10 mV per cell and -5 % SOC per board after the first.
    assert readings[2]["cells"]["voltages_mv"] == [3309, 3310, 3311, 3309]
    assert readings[2]["pack"]["soc_pct"] == 55
    assert readings[1]["pack"]["soc_pct"] == 60 and readings[3]["pack"]["soc_pct"] == 50
    assert readings[1]["cells"]["voltages_mv"] == [3299, 3300, 3301, 3299]


def test_read_absent_board_is_one_line(dalygate, sim_bms):
    sim = sim_bms("--boards", "3")
    result = read(dalygate, sim.link, "--board", "5", "--timeout-ms", "100", "--attempts", "2")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"dalygate: no reply from board 5 on {sim.link} to 0x90")
    assert "board number 5 (request address 0x44)" in lines[0]
    assert result.stdout == ""


@pytest.mark.parametrize("args", [["--board", "0"], ["--board", "17"], ["--board", "2", "--address", "0x80"]])
def test_read_refuses_boards_it_cannot_address(dalygate, tmp_path, args):
    result = read(dalygate, tmp_path / "unused.tty", *args)
    assert result.returncode != 0
    assert "--board" in result.stderr


def test_bus_faults_still_strike_and_are_retried(dalygate, sim_bms):
    sim = sim_bms("--boards", "2", "--cells", "8", "--fault", "corrupt:0.25", "--seed", "5")
    result = read(dalygate, sim.link, "--board", "2", "--json", "--timeout-ms", "200", "--attempts", "6")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["cells"]["voltages_mv"] == [3309, 3310, 3311] * 2 + [3309, 3310]


def test_sim_bms_rejects_too_many_boards(dalygate, tmp_path):
    result = subprocess.run([str(dalygate), "sim-bms", "--link", str(tmp_path / "x"), "--boards", "17"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "--boards must be 1...16" in result.stderr
