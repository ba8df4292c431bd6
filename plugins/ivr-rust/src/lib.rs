//! ivr-rust: the auto-attendant of plugins/ivr-go in Rust. A caller hears a
//! menu (1 sales, 2 support, 0 the menu again), the choice plays a
//! department prompt and the call ends. Its state (menu, tries) travels in
//! TransactionAttributes, so any instance can handle any event.

use mediaserver::*;

const BUCKET: &str = "prompts";
const MAX_MENUS: i64 = 3;

pub fn handle(e: &Event) -> HandlerResult {
    let call_id = e.participant(LEG_A).map_or("", |p| p.call_id.as_str());
    Ok(match e.event_type() {
        EventType::NewInboundCall => menu(call_id, 1),
        EventType::ActionSuccessful => {
            if e.action_type() != "PlayAudioAndGetDigits" {
                respond(vec![]) // a prompt or hangup finished: nothing to do
            } else {
                choice(e, call_id)
            }
        }
        EventType::ActionFailed => {
            if e.action_type() != "PlayAudioAndGetDigits" {
                // A prompt could not be played: there is no point going on.
                log(Level::Error, &format!("action {} failed: {}", e.action_type(), e.error_type()));
                respond(vec![hangup(call_id)]).set_attribute("menu", "failed")
            } else {
                goodbye(call_id, e.attribute("tries")) // no valid choice after every repeat
            }
        }
        _ => respond(vec![]),
    })
}

fn choice(e: &Event, call_id: &str) -> Response {
    let tries = e.attribute("tries").parse::<i64>().ok().filter(|t| *t >= 1).unwrap_or(1);
    match e.received_digits() {
        "1" => department(call_id, "sales", "ivr/sales.wav", tries),
        "2" => department(call_id, "support", "ivr/support.wav", tries),
        "0" if tries >= MAX_MENUS => goodbye(call_id, &tries.to_string()),
        "0" => menu(call_id, tries + 1),
        other => {
            // The regex admits only 0-2; anything else is a host bug or a spoof.
            log(Level::Warn, &format!("unexpected digits {:?}", other));
            menu(call_id, tries + 1)
        }
    }
}

fn menu(call_id: &str, tries: i64) -> Response {
    respond(vec![play_audio_and_get_digits(PlayAudioAndGetDigitsParams {
        call_id: call_id.to_string(),
        input_digits_regex: "^[012]$".to_string(),
        audio_source: s3_audio(BUCKET, "ivr/welcome.wav"),
        failure_audio_source: Some(s3_audio(BUCKET, "ivr/invalid.wav")),
        min_number_of_digits: 1,
        max_number_of_digits: 1,
        terminator_digits: vec!["#".to_string()],
        repeat: MAX_MENUS,
        repeat_duration_in_milliseconds: 5000,
        ..Default::default()
    })])
    .set_attribute("menu", "main")
    .set_attribute("tries", &tries.to_string())
}

fn department(call_id: &str, name: &str, prompt: &str, tries: i64) -> Response {
    respond(vec![
        play_audio(PlayAudioParams { call_id: call_id.to_string(), audio_source: s3_audio(BUCKET, prompt), ..Default::default() }),
        hangup(call_id),
    ])
    .set_attribute("menu", name)
    .set_attribute("tries", &tries.to_string())
}

fn goodbye(call_id: &str, tries: &str) -> Response {
    let r = respond(vec![
        play_audio(PlayAudioParams {
            call_id: call_id.to_string(),
            audio_source: s3_audio(BUCKET, "ivr/goodbye.wav"),
            ..Default::default()
        }),
        hangup(call_id),
    ])
    .set_attribute("menu", "goodbye");
    if tries.is_empty() {
        r
    } else {
        r.set_attribute("tries", tries)
    }
}

fn hangup(call_id: &str) -> Action {
    mediaserver::hangup(HangupParams { call_id: call_id.to_string(), ..Default::default() })
}

mediaserver::plugin!(handle);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_files() {
        let dir = format!("{}/../../sdk/conformance/ivr", option_env!("CARGO_MANIFEST_DIR").unwrap_or("."));
        if let Err(e) = mediaserver::testing::golden(handle, &dir) {
            panic!("{}", e);
        }
    }
}
