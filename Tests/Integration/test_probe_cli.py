"""`dalygate probe` as a user runs it: healthy simulated board, missing devices, a device it may not open."""
import os
import shutil
import subprocess

import pytest


def probe(dalygate, *args, user=None):
    command = [str(dalygate), "probe", *args]
    if user is not None:
        command = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *command]
    return subprocess.run(command, capture_output=True, text=True, timeout=30)


def test_missing_devices_give_one_clear_line_each(dalygate):
    result = probe(dalygate, "--i2c", "/dev/i2c-99", "--gpio", "/dev/gpiochip99")
    assert result.returncode != 0
    assert result.stderr.splitlines() == [
        "dalygate: I2C bus /dev/i2c-99: no such I2C bus: enable I2C (raspi-config) and load i2c-dev, "
        "or fix the bus number",
        "dalygate: GPIO chip /dev/gpiochip99: no such GPIO chip: check the chip number (gpiodetect)",
    ]


def test_a_file_that_is_no_device_is_named_as_such(dalygate, tmp_path):
    fake = tmp_path / "i2c-1"
    fake.write_text("")
    result = probe(dalygate, "--i2c", str(fake), "--gpio", str(fake))
    assert result.returncode != 0
    lines = result.stderr.splitlines()
    assert len(lines) == 2
    assert "not an I2C adapter" in lines[0] and "not a GPIO chip" in lines[1]


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root to drop to nobody")
def test_permission_denied_says_which_group_to_join(dalygate, tmp_path):
    tmp_path.chmod(0o755)
    node = tmp_path / "i2c-1"
    node.write_text("")
    node.chmod(0o600)
    binary = tmp_path / "dalygate"
    shutil.copy(dalygate, binary)
    binary.chmod(0o755)
    result = probe(binary, "--i2c", str(node), "--gpio", str(node), user=65534)
    assert result.returncode != 0
    assert result.stderr.splitlines() == [
        f"dalygate: I2C bus {node}: permission denied: add the user to the i2c group or run as root",
        f"dalygate: GPIO chip {node}: permission denied: add the user to the gpio group or run as root",
    ]


def test_simulated_board_answers_everywhere(dalygate):
    result = probe(dalygate, "--simulate")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "ok    INA226 at sim:i2c 0x40: present (manufacturer 0x5449, die 0x2260)",
        "ok    SSD1306 at sim:i2c 0x3C: present",
        "ok    GPIO chip sim:gpiochip0: gpiochip0 [dalygate-sim], 32 lines",
        "ok    load relay line 5: exists on gpiochip0",
        "ok    balancer relay line 3: exists on gpiochip0",
        "ok    display switch line 7: exists on gpiochip0",
    ]


def test_lines_past_the_chip_are_reported(dalygate):
    result = probe(dalygate, "--simulate", "--load-line", "40")
    assert result.returncode != 0
    assert result.stderr.strip() == "dalygate: load relay line 40: gpiochip0 has only 32 lines"
