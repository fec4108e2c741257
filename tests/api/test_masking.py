from backend.api.masking import mask_name


def test_names_keep_their_first_and_last_letter_only() -> None:
    assert mask_name("홍길동") == "홍*동"
    assert mask_name("남궁민수") == "남**수"
    assert mask_name("이순") == "이*"
    assert mask_name("John Smith") == "J*** S****"
    assert mask_name("") == "" and mask_name(None) is None
