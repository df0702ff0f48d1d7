"""RunConfig validation, presets and run ids."""

import pytest

from profkit.config import ConfigError, RunConfig, paper_config


@pytest.mark.parametrize("field,value,needle", [
    ("hidden_layers", 0, "hidden_layers must be in [1, 50]"),
    ("hidden_layers", 51, "hidden_layers must be in [1, 50]"),
    ("width", 0, "width must be in [1, 1000000]"),
    ("batch_size", 0, "batch_size must be >= 1"),
    ("batch_size", 2.5, "batch_size must be an integer"),
    ("epochs", 0, "epochs must be >= 1"),
    ("max_steps", 0, "max_steps must be >= 1"),
    ("optimizer", "rmsprop", "optimizer must be one of adam, sgd"),
    ("optimizer_impl", "cuda", "optimizer_impl must be one of default, foreach, fused"),
    ("lr", 0.0, "lr must be in (0, 10]"),
    ("lr", -1e-3, "lr must be in (0, 10]"),
    ("adam_eps", 0, "adam_eps must be in (0, 1]"),
    ("momentum", 1.5, "momentum must be in [0, 1]"),
    ("flush_denormal", "yes", "flush_denormal must be true or false"),
    ("threads", 0, "threads must be in [1, 1024]"),
    ("seed", -1, "seed must be in [0,"),
])
def test_impossible_values_name_field_and_range(field, value, needle):
    with pytest.raises(ConfigError) as e:
        RunConfig(**{field: value})
    assert needle in str(e.value)


def test_unknown_method_lists_valid_ones():
    from profkit.methods import METHODS, UnknownMethodError

    with pytest.raises(UnknownMethodError) as e:
        RunConfig(method="sgd-magic")
    for name in METHODS:
        assert name in str(e.value)


def test_unknown_dataset_lists_valid_ones():
    from profkit.data import DATASETS, UnknownDatasetError

    with pytest.raises(UnknownDatasetError) as e:
        RunConfig(dataset="imagenet")
    for name in DATASETS:
        assert name in str(e.value)


def test_unknown_method_param_names_valid_params():
    with pytest.raises(ConfigError, match="has no parameter"):
        RunConfig(method="standard", method_params={"p": 0.5})


def test_frozen_and_replace():
    cfg = RunConfig()
    with pytest.raises(AttributeError):
        cfg.width = 3  # type: ignore[misc]
    assert cfg.replace(width=3).width == 3 and cfg.width == 1000


def test_run_id_is_deterministic_and_ignores_output_paths():
    a = RunConfig(results="a", data_dir="x")
    b = RunConfig(results="b")
    assert a.run_id == b.run_id
    assert a.run_id != a.replace(seed=1).run_id
    assert a.run_id != a.replace(repeat=1).run_id
    assert a.run_id.endswith("-r0") and b.replace(repeat=2).run_id.endswith("-r2")


def test_dict_round_trip_and_unknown_fields():
    cfg = RunConfig(width=64, lr=0.01)
    assert RunConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ConfigError, match="unknown config field"):
        RunConfig.from_dict({"widht": 3})


def test_paper_preset_matches_section_8_4():
    std = paper_config("standard", "fashion-mnist")
    assert (std.batch_size, std.lr, std.epochs, std.optimizer, std.adam_eps) == (1, 1e-3, 50,
                                                                                 "adam", 1e-4)
    assert (std.hidden_layers, std.width, std.flush_denormal) == (3, 1000, False)
    assert paper_config("standard", "fashion-mnist", epochs=2).epochs == 2
