"""The README's code runs as pasted, and its usage lines say what the commands do."""

import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parent.parent / "README.md"


def _python_blocks_after(heading):
    text = README.read_text()
    section = text[text.index(heading) :]
    section = section[: section.index("\n## ", 1)]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_the_model_in_ten_lines_runs_as_pasted():
    first, training_step = _python_blocks_after("## The model in ten lines")
    namespace = {}
    exec(compile(first, "README.md", "exec"), namespace)
    assert namespace["x_new"].shape == (16, 784)
    assert np.isfinite(namespace["terms"].loss)
    # The training step and gradient check, as pasted, on a narrower model: central
    # differences over the README's full-size model would take minutes.
    import numvae

    namespace["model"] = numvae.VAE(input_dim=784, hidden_dims=(3,), latent_dim=2, dtype=np.float64, seed=0)
    namespace["x"] = namespace["x"][:4]
    exec(compile(training_step, "README.md", "exec"), namespace)


def test_usage_lines_show_the_real_defaults():
    from numvae.cli import build_parser
    from numvae.cli.evaluate import DEFAULT_CHECKPOINT
    from numvae.cli.sample import default_out

    text = README.read_text()
    text = text[text.index("## The command line") :]
    text = text[text.index("```bash\n") : text.index("```\n", text.index("```bash\n") + 7)]
    sample_line = next(line for line in text.splitlines() if line.startswith("numvae sample"))
    assert f"[--out {default_out(DEFAULT_CHECKPOINT, 0)}]" in sample_line, sample_line
    assert f"[{DEFAULT_CHECKPOINT}]" in sample_line
    commands = next(a for a in build_parser()._actions if a.dest == "command").choices
    for name in ("train", "evaluate", "sample"):
        parser = commands[name]
        block = text[text.index(f"numvae {name} ") :].split("\nnumvae ")[0]
        for action in parser._actions:
            for option in action.option_strings:
                if option.startswith("--") and option != "--help":
                    assert option in block, (name, option)


def test_train_starts_with_as_many_lines_as_the_readme_says(tmp_path, capsys):
    from numvae.cli import main

    claim = re.search(r"`train` starts with (\w+) lines", README.read_text())
    assert claim, "the README no longer says how many lines train starts with"
    words = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
    argv = ["train", "--epochs", "1", "--hidden", "8", "--out", str(tmp_path / "run"), "--no-progress"]
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    before_first_epoch = lines[: next(i for i, line in enumerate(lines) if line.startswith("epoch "))]
    assert words[claim.group(1)] == len(before_first_epoch), before_first_epoch


def test_dependencies_paragraph_names_every_package_setup_cfg_installs():
    import configparser

    cfg = configparser.ConfigParser()
    cfg.read(README.parent / "setup.cfg")

    def names(spec):
        return [re.split(r"[<>=!\[ ;]", line.strip())[0] for line in spec.strip().splitlines() if line.strip()]

    text = README.read_text()
    paragraph = text[text.index("Dependencies:") :].split("\n\n")[0].lower()
    run_time = paragraph[: paragraph.index("at run time")]
    missing = [n for n in names(cfg["options"]["install_requires"]) if n.lower() not in run_time]
    for extra in ("test", "site"):
        missing += [n for n in names(cfg["options.extras_require"][extra]) if n.lower() not in paragraph]
    assert not missing, missing
