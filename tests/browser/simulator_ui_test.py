#!/usr/bin/python3
"""Browser tests of uvmodbus-simulator's web UI (web/, embedded in the binary), in Debian's chromium
driven headless by chromium-driver and python3-selenium; the Modbus side is checked by pymodbus
(python3-pymodbus), a client we did not write. Run with Debian's /usr/bin/python3.

Usage: simulator_ui_test.py --build-dir DIR --case NAME     (--list prints the case names)

Each case starts its own simulator (config/simulator.json with Modbus on port 0, --http_port 0; the
ports are read from its log), opens the UI, does what its name says, saves a screenshot to
DIR/tests/browser/screenshots/NAME.png, reads the browser's console log and fails on any error in
it, and ends the simulator by its PID. Every wait is on a condition with a bounded deadline.
Exit codes: 0 passed, 1 failed, 77 skipped (chromium cannot start: the message says why; CTest's
SKIP_RETURN_CODE).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "integration", "py"))

import pymodbus_compat  # noqa: F401,E402  (before pymodbus.client)

from pymodbus.client import ModbusTcpClient  # noqa: E402
from pymodbus.constants import Endian  # noqa: E402
from pymodbus.payload import BinaryPayloadDecoder  # noqa: E402

SKIP = 77
WAIT_S = 15          # the longest any condition may take
UNIT = 1
MODBUS_LISTENING = re.compile(r"listening on tcp 127\.0\.0\.1:(\d+)")
HTTP_LISTENING = re.compile(r"HTTP listening on http://127\.0\.0\.1:(\d+)/")


class Skip(Exception):
    pass


class Simulator:
    """uvmodbus-simulator on free ports; stop() ends it by its PID."""

    @property
    def output(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def __init__(self, build_dir, scratch):
        with open(os.path.join(SOURCE_DIR, "config", "simulator.json")) as f:
            setup = json.load(f)
        setup["server_list"]["server"]["port"] = 0
        setup["server_list"].pop("server_udp", None)  # the UDP entry is not served (--modbus_server server)
        path = os.path.join(scratch, "setup.json")
        with open(path, "w") as f:
            json.dump(setup, f)
        # The log goes to a file, not a pipe: a pipe nobody reads would fill and stall the simulator.
        self.log_path = os.path.join(scratch, "simulator.log")
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [os.path.join(build_dir, "uvmodbus-simulator"), "--json_file", path, "--http_port", "0"],
                stdout=subprocess.DEVNULL, stderr=log)
        self.modbus_port = self.http_port = None
        deadline = time.monotonic() + WAIT_S
        while (self.modbus_port is None or self.http_port is None) and time.monotonic() < deadline:
            if self.process.poll() is not None:
                break  # the simulator ended
            text = self.output
            if m := MODBUS_LISTENING.search(text):
                self.modbus_port = int(m.group(1))
            if m := HTTP_LISTENING.search(text):
                self.http_port = int(m.group(1))
            time.sleep(0.02)  # a bounded poll of the log (the deadline above), not a wait for readiness
        if self.modbus_port is None or self.http_port is None:
            self.stop()
            raise AssertionError("the simulator did not report its ports:\n" + self.output)
        self.url = f"http://127.0.0.1:{self.http_port}"

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_browser(scratch):
    """Headless chromium, or Skip with the reason it cannot start."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as error:
        raise Skip(f"python3-selenium is not installed ({error}); run scripts/setup.sh")
    chromium = shutil.which("chromium")
    driver_path = shutil.which("chromedriver")
    if not chromium or not driver_path:
        raise Skip("chromium or chromedriver is not installed (Debian: chromium chromium-driver; run scripts/setup.sh)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,1000", "--no-first-run", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update",
                f"--user-data-dir={os.path.join(scratch, 'chromium-profile')}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        return webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    except Exception as error:  # noqa: BLE001  (WebDriverException and OS errors alike)
        # The driver's message ends in a native stack trace: its first lines say why.
        reason = " ".join(line.strip() for line in str(error).splitlines()[:3] if line.strip())
        raise Skip(f"chromium cannot start: {reason}")


def wait_for(driver, condition, what):
    """Polls condition(driver) until it returns a true value (returned) or WAIT_S pass."""
    from selenium.webdriver.support.ui import WebDriverWait
    from selenium.common.exceptions import TimeoutException
    try:
        return WebDriverWait(driver, WAIT_S, poll_frequency=0.1).until(condition)
    except TimeoutException:
        raise AssertionError(f"waited {WAIT_S} s for {what}")


def text_of(driver, css):
    from selenium.webdriver.common.by import By
    found = driver.find_elements(By.CSS_SELECTOR, css)
    return found[0].text if found else None


def console_errors(driver):
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def modbus_client(sim):
    client = ModbusTcpClient("127.0.0.1", port=sim.modbus_port, timeout=5, retries=0)
    assert client.connect(), "pymodbus cannot connect to the simulator"
    return client


def open_ui(driver, sim):
    driver.get(sim.url + "/")
    # The live table shows the first registers on opening: register 10 holds 1234 in the setup.
    wait_for(driver, lambda d: text_of(d, 'td.value[data-register="10"]') == "1234", "register 10 in the table")


# --- the cases --------------------------------------------------------------------------------------

def case_value_changes_as_modbus_client_writes(driver, sim):
    open_ui(driver, sim)
    client = modbus_client(sim)
    try:
        assert not client.write_register(10, 4321, slave=UNIT).isError()
    finally:
        client.close()
    wait_for(driver, lambda d: text_of(d, 'td.value[data-register="10"]') == "4321",
             "register 10 to show 4321 written by pymodbus")


def case_float32_set_in_ui_reads_back_over_modbus(driver, sim):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    open_ui(driver, sim)
    wait_for(driver, lambda d: text_of(d, 'td.value[data-register="30"]') == "404.17", "float32 30-31 at 404.17")
    driver.find_element(By.CSS_SELECTOR, 'td.value[data-register="30"]').click()
    field = wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, 'input.edit[data-register="30"]'), "the editor")[0]
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys("-12.625", Keys.ENTER)
    wait_for(driver, lambda d: text_of(d, 'td.value[data-register="30"]') == "-12.625", "the table to show -12.625")
    client = modbus_client(sim)
    try:
        response = client.read_holding_registers(30, 2, slave=UNIT)
        assert not response.isError(), response
        value = BinaryPayloadDecoder.fromRegisters(response.registers, byteorder=Endian.Big,
                                                   wordorder=Endian.Big).decode_32bit_float()
    finally:
        client.close()
    assert value == -12.625, f"pymodbus read {value} ({response.registers}), not -12.625"


def case_refused_value_shows_in_status_and_changes_nothing(driver, sim):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    open_ui(driver, sim)
    for typed, expected in (("70000", "70000 is outside the range of uint16"), ("abc", "abc is not a number")):
        driver.find_element(By.CSS_SELECTOR, 'td.value[data-register="10"]').click()
        field = wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, 'input.edit[data-register="10"]'), "the editor")[0]
        field.send_keys(Keys.CONTROL, "a")
        field.send_keys(typed, Keys.ENTER)
        wait_for(driver, lambda d: expected in (text_of(d, "#status") or ""), f"the status line to say {expected!r}")
        assert "error" in driver.find_element(By.ID, "status").get_attribute("class")
        field.send_keys(Keys.ESCAPE)
    client = modbus_client(sim)
    try:
        response = client.read_holding_registers(10, 1, slave=UNIT)
        assert not response.isError() and response.registers == [1234], f"register 10 changed: {response}"
    finally:
        client.close()


def case_exception_04_injected_in_ui_reaches_modbus_client(driver, sim):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    open_ui(driver, sim)
    wait_for(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#fault-error option")) > 0, "the exception list")
    driver.find_element(By.CSS_SELECTOR, 'input[name=response_type][value="1"]').click()
    Select(driver.find_element(By.ID, "fault-error")).select_by_value("4")
    driver.find_element(By.ID, "fault-apply").click()
    wait_for(driver, lambda d: (text_of(d, "#fault-state") or "").startswith("simulating"), "the fault badge")
    client = modbus_client(sim)
    try:
        response = client.read_holding_registers(10, 1, slave=UNIT)
        assert response.isError() and getattr(response, "exception_code", None) == 4, \
            f"pymodbus got {response}, not exception 04"
        wait_for(driver, lambda d: "1 requests" in (text_of(d, "#fault-state") or ""), "the simulated request count")
        driver.save_screenshot(os.path.join(driver.screenshot_dir, "fault_active.png"))
        driver.find_element(By.ID, "fault-reset").click()
        wait_for(driver, lambda d: text_of(d, "#fault-state") == "normal answers", "the reset badge")
        response = client.read_holding_registers(10, 1, slave=UNIT)
        assert not response.isError() and response.registers == [1234], f"after Reset: {response}"
    finally:
        client.close()


def case_call_appears_in_trace(driver, sim):
    from selenium.webdriver.common.by import By
    open_ui(driver, sim)
    driver.find_element(By.ID, "monitor-start-button").click()
    wait_for(driver, lambda d: (text_of(d, "#monitor-state") or "").startswith("recording"), "the monitor badge")
    client = modbus_client(sim)
    try:
        assert not client.read_holding_registers(20, 2, slave=UNIT).isError()
    finally:
        client.close()

    def traced(d):
        rows = [[td.text for td in tr.find_elements(By.TAG_NAME, "td")]
                for tr in d.find_elements(By.CSS_SELECTOR, "#calls tbody tr")]
        request = any(r[:5] == ["request", "1", "3", "20", "2"] and "read_holding_registers" in r[5] for r in rows)
        response = any(r[0] == "response" and r[2] == "3" and "617001" not in r[5] and r[5] for r in rows)
        return request and response
    wait_for(driver, traced, "the FC3 request at 20 and its response in the trace")


def case_trend_charts_chosen_registers(driver, sim):
    from selenium.webdriver.common.by import By
    open_ui(driver, sim)
    driver.find_element(By.ID, "monitor-start-button").click()  # the trace fills too: the screenshot shows every part
    for register in ("10", "32"):
        driver.find_element(By.CSS_SELECTOR, f'input.trend-toggle[data-register="{register}"]').click()
    wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#trend canvas"), "the chart's canvas")
    labels = wait_for(driver, lambda d: [e.text for e in d.find_elements(By.CSS_SELECTOR, "#trend .u-legend .u-label")
                                         if e.text], "the chart's legend")
    assert "10 uint16" in labels and "32-33 float32" in labels, labels
    # Values change under the chart: pymodbus writes register 10 and reads 32-33 (a random walk
    # that moves on every Modbus read); the table and the chart's samples follow.
    client = modbus_client(sim)
    try:
        for value in (1500, 900, 2100):
            assert not client.write_register(10, value, slave=UNIT).isError()
            assert not client.read_holding_registers(32, 2, slave=UNIT).isError()
            wait_for(driver, lambda d: text_of(d, 'td.value[data-register="10"]') == str(value), f"10 = {value}")
    finally:
        client.close()
    wait_for(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#calls tbody tr")) >= 12, "the calls in the trace")
    driver.execute_script("document.querySelector('#registers-panel .scroll').scrollTop = 0")


def case_no_console_errors_on_any_page(driver, sim):
    from selenium.webdriver.common.by import By
    open_ui(driver, sim)
    links = [a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, "nav a")]
    expected = [sim.url + p for p in ("/api/registers", "/api/calls", "/api/log", "/api/server")]
    assert links == expected, f"the start page links {links}, not pymodbus's four views"
    errors = console_errors(driver)
    assert not errors, f"/ logged {errors}"
    for url in expected:
        driver.get(url)
        wait_for(driver, lambda d: d.execute_script("return document.readyState") == "complete", url)
        errors = console_errors(driver)
        assert not errors, f"{url} logged {errors}"


CASES = {name[len("case_"):]: fn for name, fn in globals().items() if name.startswith("case_")}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir")
    parser.add_argument("--case", choices=sorted(CASES))
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args()
    if args.list:
        print("\n".join(sorted(CASES)))
        return 0
    if not args.build_dir or not args.case:
        parser.error("--build-dir and --case are required")
    shots = os.path.join(args.build_dir, "tests", "browser", "screenshots")
    os.makedirs(shots, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix=f"browser_{args.case}_", dir=os.path.join(args.build_dir, "tests", "browser"))
    sim = driver = None
    try:
        sim = Simulator(args.build_dir, scratch)
        driver = start_browser(scratch)
        driver.screenshot_dir = shots
        try:
            CASES[args.case](driver, sim)
            errors = console_errors(driver)
            assert not errors, f"the browser's console logged errors: {errors}"
        finally:
            driver.save_screenshot(os.path.join(shots, f"{args.case}.png"))
        print(f"PASSED {args.case} (screenshot: {os.path.join(shots, args.case + '.png')})")
        return 0
    except Skip as reason:
        print(f"SKIPPED {args.case}: {reason}")
        return SKIP
    except Exception:  # noqa: BLE001  (an assertion or a driver error: the case failed)
        traceback.print_exc()
        if sim is not None:
            print("simulator log:\n" + sim.output, file=sys.stderr)
        return 1
    finally:
        if driver is not None:
            driver.quit()
        if sim is not None:
            sim.stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
