"""What a resident types as an ID number or phone digits, and how problems are explained to them."""

from datetime import date

from casework.id_numbers import check_digit, check_id_number, check_phone_last4

# GB 11643's own example number (a fictitious person in Beijing): check digit X.
VALID_WITH_X = "11010519491231002X"
VALID = "360102198503129014"


def test_valid_number_is_accepted_and_normalized() -> None:
    result = check_id_number(VALID)
    assert result.valid and result.normalized == VALID and result.problem is None


def test_check_digit_follows_iso_7064_mod_11_2() -> None:
    assert check_digit(VALID_WITH_X[:17]) == "X"
    assert check_digit(VALID[:17]) == "4"


def test_lower_case_x_is_accepted_as_check_character() -> None:
    assert check_id_number(VALID_WITH_X.lower()).normalized == VALID_WITH_X


def test_full_width_digits_and_spaces_are_accepted() -> None:
    typed = "３６０１０２　１９８５０３１２ ９０１４"
    assert check_id_number(typed).normalized == VALID
    assert check_id_number("360102-19850312-9014").normalized == VALID


def test_wrong_length_says_how_many_digits_were_typed() -> None:
    result = check_id_number(VALID[:-1])
    assert not result.valid and result.normalized is None
    assert "位数不对" in result.problem and "17位" in result.problem and "18位" in result.problem


def test_fifteen_digit_old_number_asks_for_the_current_one() -> None:
    assert "18位" in check_id_number("360102850312901").problem


def test_wrong_check_digit_is_explained() -> None:
    result = check_id_number(VALID[:-1] + "5")
    assert not result.valid and "校验位不对" in result.problem


def test_swapped_digits_are_caught_by_the_check_digit() -> None:
    swapped = VALID[:8] + VALID[9] + VALID[8] + VALID[10:]  # 1985 → 1958: still a real date
    assert "校验位不对" in check_id_number(swapped).problem


def test_impossible_birth_date_is_explained() -> None:
    first17 = "36010219850230901"  # 30 February
    result = check_id_number(first17 + check_digit(first17))
    assert not result.valid and "出生日期无效" in result.problem


def test_birth_date_in_the_future_is_invalid() -> None:
    first17 = "36010220300101901"
    assert "出生日期无效" in check_id_number(first17 + check_digit(first17), today=date(2026, 11, 23)).problem


def test_letters_and_misplaced_x_are_explained_without_echoing_the_number() -> None:
    for typed in ("36010219850312901A", "3601021985X3129014"):
        result = check_id_number(typed)
        assert not result.valid and typed not in result.problem


def test_empty_input_asks_for_the_number() -> None:
    assert "18位身份证号码" in check_id_number("  ").problem


def test_phone_last4_accepts_four_digits_or_the_whole_mobile_number() -> None:
    assert check_phone_last4(" ５６７８").normalized == "5678"
    assert check_phone_last4("138 0000 0001").normalized == "0001"


def test_phone_last4_explains_wrong_length_and_letters() -> None:
    assert "3位" in check_phone_last4("567").problem
    assert "数字" in check_phone_last4("56a8").problem
