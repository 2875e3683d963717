"""The Playground in a real headless Chromium (Debian's chromium and chromium-driver, selenium):
the page is driven through its data-testid elements as a user would, and as API.md's outside check
does.  Skipped where Chromium is missing, except under CI=true, where that is a failure.

PLAYGROUND_SCREENSHOT=docs/playground.png also writes the README's screenshot there.
"""

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request

import pytest

from playground_helpers import STATIC_TESTIDS, running_server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
if not (CHROMIUM and DRIVER):
    if os.environ.get("CI") == "true":
        pytest.fail("CI=true but chromium/chromedriver are missing (apt-get install chromium "
                    "chromium-driver)", pytrace=False)
    pytest.skip("headless Chromium (chromium, chromedriver) is not installed",
                allow_module_level=True)
if os.environ.get("CI") == "true":
    from selenium import webdriver   # in the dev extra: under CI its absence is a failure
else:
    webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def base():
    with running_server() as (_, url):
        yield url


@pytest.fixture(scope="module")
def driver():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1400,1400"):
        options.add_argument(arg)
    d = webdriver.Chrome(options=options, service=Service(DRIVER))
    d.set_page_load_timeout(30)
    yield d
    d.quit()


def tid(d, name):
    return d.find_element(By.CSS_SELECTOR, f'[data-testid="{name}"]')


def present(d, name) -> bool:
    return bool(d.find_elements(By.CSS_SELECTOR, f'[data-testid="{name}"]'))


def set_value(d, name, value):
    """What the outside check does: set the control's value, then fire `change`."""
    d.execute_script("arguments[0].value = arguments[1];"
                     "arguments[0].dispatchEvent(new Event('change', {bubbles: true}));",
                     tid(d, name), str(value))


def wait(d, condition, timeout=20.0, what="condition"):
    return WebDriverWait(d, timeout, poll_frequency=0.1).until(lambda _: condition(), what)


def fresh(d, url):
    d.get("about:blank")
    d.get(url)
    wait(d, lambda: d.execute_script("return document.querySelector('#network .node') !== null"),
         what="the network drawn")


def epoch(d) -> int:
    return int(tid(d, "epoch").text)


def test_fresh_page_has_the_contract(driver, base):
    fresh(driver, base + "/")
    for name in STATIC_TESTIDS:
        assert present(driver, name), name
    assert tid(driver, "epoch").text == "0" and tid(driver, "error").text == ""
    for name in ["neurons-add-1", "neurons-remove-2", "feature-x1", "feature-sinx2"]:
        assert present(driver, name), name
    assert not present(driver, "neurons-add-3")
    assert tid(driver, "feature-x1").is_selected() and not tid(driver, "feature-x1sq").is_selected()
    assert "layers=4,2" in driver.current_url and "dataset=circle" in driver.current_url
    assert tid(driver, "learning-rate").get_attribute("value") == "0.03"
    wait(driver, lambda: driver.find_elements(By.CSS_SELECTOR, '[data-testid="graph"] svg g.node'),
         what="the graph's <svg>")
    assert tid(driver, "upload").get_attribute("type") == "file"


def test_xor_with_tanh_learns_and_the_graph_follows(driver, base):
    fresh(driver, base + "/")
    set_value(driver, "dataset", "xor")
    set_value(driver, "activation", "tanh")
    wait(driver, lambda: "dataset=xor" in driver.current_url, what="URL updated")
    tid(driver, "play").click()
    wait(driver, lambda: epoch(driver) > 0, timeout=10, what="epoch advancing")

    def low():
        text = tid(driver, "loss-test").text
        return float(text) < 0.1
    wait(driver, low, timeout=90, what="test loss below 0.1")
    assert epoch(driver) <= 3000
    assert driver.find_elements(By.CSS_SELECTOR, '[data-testid="graph"] svg g.node')
    tid(driver, "play").click()            # pause: the epoch stops
    time.sleep(0.5)
    stopped = epoch(driver)
    time.sleep(0.8)
    assert epoch(driver) == stopped
    tid(driver, "step").click()
    wait(driver, lambda: epoch(driver) == stopped + 1, what="one step")
    tid(driver, "reset").click()
    wait(driver, lambda: epoch(driver) == 0, what="reset")


def test_url_round_trip(driver, base):
    fresh(driver, base + "/")
    set_value(driver, "activation", "relu")
    set_value(driver, "learning-rate", "0.1")
    tid(driver, "feature-x1sq").click()
    tid(driver, "layers-add").click()
    wait(driver, lambda: present(driver, "neurons-add-3"), what="layer 3")
    tid(driver, "neurons-add-3").click()
    wait(driver, lambda: "layers=4,2,3" in driver.current_url, what="URL with the new layer")
    url = driver.current_url
    assert "activation=relu" in url and "learning-rate=0.1" in url and "x1sq" in url
    fresh(driver, url)
    assert driver.current_url == url
    assert tid(driver, "activation").get_attribute("value") == "relu"
    assert tid(driver, "learning-rate").get_attribute("value") == "0.1"
    assert tid(driver, "feature-x1sq").is_selected()
    assert present(driver, "neurons-add-3") and not present(driver, "neurons-add-4")
    tid(driver, "layers-remove").click()
    wait(driver, lambda: "layers=4,2&" in driver.current_url, what="URL after removing")


def test_backprop_view_steps_through_nodes(driver, base):
    fresh(driver, base + "/")
    tid(driver, "backprop").click()
    panel = tid(driver, "backprop-panel")
    wait(driver, lambda: "the loss" in panel.text, what="the first step")
    first = panel.text
    assert "dE/dout = out - t" in first and "agrees" in first
    tid(driver, "backprop-next").click()
    wait(driver, lambda: panel.text != first, what="the next node")
    assert "output" in panel.text and "f'(Z)" in panel.text
    tid(driver, "backprop-next").click()
    wait(driver, lambda: "dE/dW = dE/dout · dout/dZ · dZ/dW" in panel.text, what="the chain rule")
    tid(driver, "backprop-prev").click()
    tid(driver, "backprop-prev").click()
    wait(driver, lambda: panel.text == first, what="back to the loss")


def test_bad_inputs_show_error_and_change_nothing(driver, base, tmp_path):
    fresh(driver, base + "/")
    url = driver.current_url
    for name, value in [("noise", "80"), ("learning-rate", "abc"), ("batch-size", "0"),
                        ("regularization-rate", "-1"), ("train-ratio", "95")]:
        set_value(driver, name, value)
        wait(driver, lambda: name in tid(driver, "error").text, what=f"error for {name}")
        assert driver.current_url == url
        assert tid(driver, name).get_attribute("value") != value
    for _ in range(4):
        tid(driver, "layers-add").click()
    wait(driver, lambda: "layers=4,2,2,2,2,2" in driver.current_url, what="six layers")
    tid(driver, "layers-add").click()
    wait(driver, lambda: "at most 6" in tid(driver, "error").text, what="layer limit")
    bad = tmp_path / "bad.csv"
    bad.write_text("x1,x2,label\n1,2\n3,4,1\n")
    tid(driver, "upload").send_keys(str(bad))
    wait(driver, lambda: "bad.csv" in tid(driver, "error").text, what="upload refused")
    assert "layers=4,2,2,2,2,2" in driver.current_url
    good = tmp_path / "good.csv"
    good.write_text("".join(f"{x},{y},{int(x * y > 0)}\n" for x in range(-3, 4) for y in (-2, 2)))
    tid(driver, "upload").send_keys(str(good))
    wait(driver, lambda: tid(driver, "error").text == "", what="upload accepted")
    fresh(driver, base + "/")
    url = driver.current_url
    driver.execute_script("location.hash = '#activation=swish'")   # edited in the open tab
    wait(driver, lambda: "activation" in tid(driver, "error").text, what="forged hash refused")
    assert tid(driver, "activation").get_attribute("value") == "tanh"
    set_value(driver, "activation", "relu")                          # next change: a good URL
    wait(driver, lambda: "activation=relu" in driver.current_url, what="URL rewritten")
    assert tid(driver, "error").text == ""
    forged = base + "/#learning-rate=99&layers=" + ",".join(["8"] * 100)
    fresh(driver, forged)
    wait(driver, lambda: "refused" in tid(driver, "error").text, what="forged URL refused")
    assert tid(driver, "learning-rate").get_attribute("value") == "0.03"
    assert present(driver, "neurons-add-2") and not present(driver, "neurons-add-3")


def test_a_diverged_run_shows_error_and_stops_until_reset(driver, base):
    fresh(driver, base + "/")
    set_value(driver, "dataset", "plane")
    set_value(driver, "learning-rate", "10")
    wait(driver, lambda: "learning-rate=10&" in driver.current_url, what="lr 10")
    tid(driver, "play").click()
    wait(driver, lambda: "diverged" in tid(driver, "error").text, timeout=5, what="divergence")
    assert tid(driver, "loss-train").text == "NaN" or "finite" in tid(driver, "error").text
    stopped = epoch(driver)
    tid(driver, "play").click()
    time.sleep(0.8)
    assert epoch(driver) == stopped and "diverged" in tid(driver, "error").text
    tid(driver, "reset").click()
    wait(driver, lambda: tid(driver, "error").text == "", what="reset clears it")


def test_the_defaults_at_learning_rate_10_show_divergence_within_5_s(driver, base):
    fresh(driver, base + "/")
    set_value(driver, "learning-rate", "10")
    wait(driver, lambda: "learning-rate=10&" in driver.current_url, what="lr 10")
    tid(driver, "play").click()
    wait(driver, lambda: "diverged" in tid(driver, "error").text, timeout=5, what="divergence")
    assert "rose from" in tid(driver, "error").text
    tid(driver, "reset").click()
    wait(driver, lambda: tid(driver, "error").text == "", what="reset clears it")


def test_exports_and_screenshot(driver, base, tmp_path):
    fresh(driver, base + "/#dataset=spiral&features=x1,x2,sinx1,sinx2&layers=8,8,5"
                  "&optimizer=adam&learning-rate=0.01&show-test=true")
    href = tid(driver, "export-code").get_attribute("href")
    with urllib.request.urlopen(href, timeout=30) as r:
        assert b"def build(" in r.read()
    with urllib.request.urlopen(tid(driver, "export-model").get_attribute("href"), timeout=30) as r:
        assert r.read(2) == b"PK"
    tid(driver, "play").click()
    wait(driver, lambda: epoch(driver) >= 100, timeout=60, what="100 epochs")
    tid(driver, "play").click()
    wait(driver, lambda: tid(driver, "play").text == "▶", what="paused")
    time.sleep(0.5)
    page_epoch, page_loss = epoch(driver), float(tid(driver, "loss-test").text)
    with urllib.request.urlopen(href, timeout=30) as r:   # exported now: trained to page_epoch
        (tmp_path / "exported.py").write_bytes(r.read())
    out = subprocess.run([sys.executable, str(tmp_path / "exported.py")], capture_output=True,
                         text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    script_loss = float(re.search(r"test loss (\S+)", out.stdout).group(1))
    assert abs(script_loss - page_loss) <= 0.1 * max(page_loss, 0.005), (script_loss, page_loss)
    assert epoch(driver) == page_epoch
    tid(driver, "backprop").click()
    wait(driver, lambda: "the loss" in tid(driver, "backprop-panel").text, what="backprop view")
    time.sleep(2.5)   # the graph refreshes after the pause
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1400, min(height + 120, 4000))   # the whole page in one picture
    driver.execute_script("window.scrollTo(0, 0)")
    path = tmp_path / "playground.png"
    driver.save_screenshot(str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("PLAYGROUND_SCREENSHOT"):
        shutil.copy(path, os.environ["PLAYGROUND_SCREENSHOT"])
