"""The Playground's server and API: the page and its assets, the default state, settings in the URL,
validation of every value (refusals change nothing), layers and neurons, idle cleanup, the views
and a server that survives bad requests.  Training itself is in test_playground_training.py."""

import re
import subprocess
import sys
import time

import pytest

from playground_helpers import FEATURES, STATIC_TESTIDS, Client, api, fetch, running_server
from viz.playground import settings as S


@pytest.fixture(scope="module")
def base():
    with running_server() as (_, url):
        yield url


def test_page_and_assets_are_served_with_every_testid(base):
    status, page, headers = fetch(base + "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    html = page.decode()
    for tid in STATIC_TESTIDS:
        assert f'data-testid="{tid}"' in html, tid
    for src in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        status, body, headers = fetch(base + src)
        assert status == 200 and body, src
    status, js, _ = fetch(base + "/static/draw.js")
    assert b"neurons-add-${c}" in js and b"feature-${node.feature}" in js
    assert b"http://" not in page.replace(b"http://www.w3.org", b"")   # nothing fetched elsewhere
    assert fetch(base + "/static/../server.py")[0] == 404
    assert fetch(base + "/nothing")[0] == 404


def test_default_state_is_tensorflows(base):
    st = Client(base).state
    assert st["settings"] == S.DEFAULTS
    assert st["epoch"] == 0 and st["error"] == "" and not st["playing"]
    for key in ("loss_train", "loss_test"):
        assert re.fullmatch(r"\d+\.\d+", st[key]), st[key]
    assert "layers=4,2" in st["fragment"] and "features=x1,x2" in st["fragment"]
    assert len(st["boundary"]) == st["boundary_cells"] ** 2
    assert [len(m) for m in st["neurons"]] == [2, 4, 2, 1]


def test_url_fragment_round_trip(base):
    c = Client(base)
    c.settings(dataset="spiral", activation="relu", learning_rate=0.1,
               features=["x1", "x2", "sinx1"],
               regularization="l2", regularization_rate=0.003, noise=10, train_ratio=70)
    c.action("layers-add")
    c.action("neurons-add", 3)
    fragment = c.state["fragment"]
    assert "layers=4,2,3" in fragment
    again = Client(base, "#" + fragment)
    assert again.state["error"] == ""
    assert again.state["settings"] == c.state["settings"]
    assert again.state["fragment"] == fragment
    assert S.apply(S.defaults(), S.from_fragment(fragment)) == c.state["settings"]


BAD_SETTINGS = [
    ({"learning-rate": 11}, "learning-rate"), ({"learning-rate": 0}, "learning-rate"),
    ({"learning-rate": "abc"}, "learning-rate"), ({"learning-rate": "nan"}, "learning-rate"),
    ({"batch-size": 31}, "batch-size"), ({"batch-size": 2.5}, "batch-size"),
    ({"batch-size": True}, "batch-size"), ({"noise": -1}, "noise"), ({"noise": 80}, "noise"),
    ({"train-ratio": 95}, "train-ratio"), ({"regularization-rate": -0.1}, "regularization-rate"),
    ({"dataset": "moons"}, "dataset"), ({"activation": "swish"}, "activation"),
    ({"optimizer": "lbfgs"}, "optimizer"), ({"loss": "hinge"}, "loss"),
    ({"regularization": "l3"}, "regularization"), ({"problem": "ranking"}, "problem"),
    ({"features": []}, "features"), ({"features": ["x3"]}, "features"),
    ({"layers": [4] * 100}, "layers"), ({"layers": [9]}, "layers"), ({"layers": [0]}, "layers"),
    ({"layers": "a,b"}, "layers"), ({"show-test": "maybe"}, "show-test"),
    ({"speed": 3}, "unknown setting"), ({"dataset": "plane", "problem": "classification"}, "plane"),
    ({"dataset": "plane", "loss": "cross_entropy"}, "cross_entropy"),
    ({"noise": 10, "learning-rate": 99}, "learning-rate"),   # all or nothing: noise stays 0
]


@pytest.mark.parametrize("changes, named", BAD_SETTINGS)
def test_a_refused_setting_changes_nothing(base, changes, named):
    c = Client(base)
    c.action("step")
    before = c.state
    status, reply = c.post("settings", changes)
    assert status == 400
    assert named in reply["error"]
    after = reply["state"]
    for key in ("settings", "fragment", "epoch", "loss_train", "weights", "data_version"):
        assert after[key] == before[key], key
    assert after["error"] == reply["error"]   # the page shows it until the next accepted change
    assert c.settings(noise=5)[0] == 200 and c.state["error"] == ""


def test_layers_and_neurons_stay_in_range(base):
    c = Client(base)
    for _ in range(4):
        assert c.action("layers-add")[0] == 200
    assert c.state["settings"]["layers"] == [4, 2, 2, 2, 2, 2]
    status, reply = c.action("layers-add")
    assert status == 400 and "at most 6" in reply["error"]
    for _ in range(4):
        c.action("neurons-add", 1)
    assert c.state["settings"]["layers"][0] == 8
    assert c.action("neurons-add", 1)[0] == 400
    assert c.action("neurons-add", 7)[1]["error"].startswith("neurons-add-7: there is no hidden")
    assert c.action("neurons-remove", "x")[0] == 400
    for _ in range(6):
        assert c.action("layers-remove")[0] == 200
    assert c.state["settings"]["layers"] == [] and "layers=&" in c.state["fragment"]
    assert [len(m) for m in c.state["neurons"]] == [2, 1]   # inputs wired to the output
    assert c.action("layers-remove")[0] == 400
    assert c.action("fly")[1]["error"].startswith("unknown action")


def test_dataset_problem_and_loss_stay_consistent(base):
    c = Client(base)
    c.settings(loss="cross_entropy")
    c.settings(dataset="plane")
    s = c.state["settings"]
    assert (s["problem"], s["loss"]) == ("regression", "half_sse")
    c.settings(problem="classification")
    assert c.state["settings"]["dataset"] == "circle"


def test_a_url_edited_in_an_open_tab_means_what_a_fresh_load_means(base):
    c = Client(base)
    c.settings(activation="relu", layers=[3])
    assert c.post("fragment", {"fragment": "#dataset=xor&learning-rate=0.1"})[0] == 200
    assert c.state["settings"] == dict(S.DEFAULTS, dataset="xor", **{"learning-rate": 0.1})
    assert c.state["settings"] == Client(base, "#dataset=xor&learning-rate=0.1").state["settings"]
    status, reply = c.post("fragment", {"fragment": "#activation=swish"})
    assert status == 400 and "activation" in reply["error"]
    assert reply["state"]["settings"]["dataset"] == "xor"       # refused: nothing changed


def test_a_forged_url_keeps_the_defaults_and_says_why(base):
    for fragment in ["#learning-rate=1e9", "#layers=" + ",".join(["8"] * 100), "#dataset=<script>",
                     "#noise=1&noise=2", "#%%%", "#speed=3"]:
        st = Client(base, fragment).state
        assert st["settings"] == S.DEFAULTS, fragment
        assert st["error"].startswith("the URL's settings were refused"), fragment


def test_live_settings_keep_the_weights_others_reset(base):
    c = Client(base)
    c.action("step")
    c.action("step")
    c.settings(learning_rate=0.1, batch_size=5, show_test=True)
    assert c.state["epoch"] == 2
    c.settings(activation="relu")
    assert c.state["epoch"] == 0


def test_idle_sessions_are_cleaned_up():
    with running_server(idle_timeout=0.3) as (server, url):
        c = Client(url)
        assert len(server.sessions) == 1
        time.sleep(1.0)
        assert len(server.sessions) == 0
        status, reply = c.get("state")
        assert status == 404 and reply["expired"] and "expired" in reply["error"]


def test_bad_requests_never_stop_the_server(base):
    c = Client(base)
    assert fetch(c.url + "settings", "POST", raw=b"{not json")[0] == 400
    assert fetch(c.url + "settings", "POST", raw=b"[1, 2]")[0] == 400
    assert fetch(c.url + "action", "POST", raw=b'{"action": 3}')[0] == 400
    assert fetch(c.url + "settings", "GET")[0] == 405
    assert fetch(base + "/api/session/nope/state")[0] == 404
    status, body, _ = fetch(c.url + "settings", "POST", raw=b"x" * 70000)
    assert status == 400 and b"at most" in body
    assert c.get("state")[0] == 200


def test_views_and_exports_are_served(base):
    c = Client(base)
    c.action("step")
    status, svg, headers = fetch(c.url + "graph.svg")
    assert status == 200 and svg.startswith(b"<svg") and b'class="node"' in svg
    for layer in (b"hidden1 (Layer)", b"hidden2 (Layer)", b"output (Layer)"):
        assert layer in svg
    status, bp = c.get("backprop")
    assert status == 200 and len(bp["steps"]) == 1 + 2 * 3
    status, npz, headers = fetch(c.url + "model.npz")
    assert status == 200 and npz[:2] == b"PK" and "attachment" in headers["Content-Disposition"]
    status, src, _ = fetch(c.url + "script.py")
    assert status == 200 and b"def build(" in src and b"SETTINGS = " in src
    compile(src, "playground_model.py", "exec")


def test_tabs_are_independent_sessions(base):
    a, b = Client(base), Client(base)
    assert a.sid != b.sid
    a.settings(dataset="xor", activation="relu")
    a.action("play")
    a.post("advance", {})
    status, st = b.get("state")
    assert st["settings"] == S.DEFAULTS and st["epoch"] == 0 and not st["playing"]
    assert a.state["epoch"] > 0 and a.state["settings"]["dataset"] == "xor"


def test_close_drops_the_session(base):
    c = Client(base)
    assert c.post("close", {})[0] == 200
    assert c.get("state")[0] == 404


def test_command_line():
    out = subprocess.run([sys.executable, "-m", "viz.playground", "--help"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0 and "--no-browser" in out.stdout and "--port" in out.stdout
    out = subprocess.run([sys.executable, "-m", "viz.playground", "--port", "70000",
                          "--no-browser"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "--port must be 0 to 65535" in out.stderr


def test_schema_matches_the_contract(base):
    status, schema = api(base + "/api/schema")
    assert status == 200
    assert schema["features"] == FEATURES
    assert schema["choices"]["dataset"] == ["circle", "xor", "gaussians", "spiral", "plane",
                                            "multigaussian"]
    assert schema["choices"]["activation"] == ["relu", "tanh", "sigmoid", "linear", "binary_step",
                                               "arctan", "prelu", "elu", "softplus"]
    assert schema["numbers"]["learning-rate"]["max"] == 10
