// Interface strings in English and French. The participant picks the
// language of their browser by default and can switch; the choice is kept.

const STRINGS = {
  en: {
    app_name: "Essaim",
    lang_switch: "Français",
    lang_switch_label: "Passer en français",
    join_title: "Join a session",
    join_code_label: "Session code",
    join_code_hint: "The 6-character code shown by the facilitator",
    join_button: "Join",
    profile_title: "A few questions about you",
    profile_hint: "Optional. You stay anonymous: no name, no e-mail.",
    profile_skip: "— prefer not to say —",
    profile_continue: "Continue",
    connecting: "Connecting…",
    reconnecting: "Connection lost. Reconnecting… Nothing you typed is lost.",
    online: "Connected",
    pending_actions: "{n} actions waiting to be sent",
    pending_actions_one: "{n} action waiting to be sent",
    timer_label: "Time left in this phase",
    paused: "Paused",
    overtime: "Overtime",
    participants: "{n} participants",
    participants_one: "{n} participant",
    cards: "{n} cards",
    cards_one: "{n} card",
    phase_of: "Phase {n} of {total}",
    waiting_title: "Waiting for the start",
    waiting_text: "The facilitator will start the session soon. Keep this page open.",
    paused_text: "The facilitator has paused the session.",
    finished_title: "Thank you!",
    finished_text: "The session is over. Thank you for taking part.",
    between_text: "The next phase is being prepared…",
    collect_title: "Share your ideas",
    prompt_label: "Question",
    card_label: "Your idea",
    card_hint: "One idea per card. Similar ideas from others appear below.",
    card_submit: "Add my card",
    card_too_short: "Write a few more words.",
    suggestions_title: "Similar ideas already shared",
    support_instead: "Support this instead",
    supported: "Supported",
    my_cards: "Your cards ({n})",
    card_sending: "sending…",
    card_hidden: "hidden by moderation",
    card_masked: "personal data was masked",
    supporters: "{n} supporters",
    supporters_one: "{n} supporter",
    flag: "Report",
    flag_reason: "Why? (optional)",
    flag_about: "Report “{text}”",
    flag_send: "Send report",
    flag_cancel: "Cancel",
    flag_done: "Reported. A small jury of participants will decide.",
    sort_title: "Help structure the ideas",
    sort_intro: "Group a hand of about 8 cards: the same idea, the same theme, or off-topic.",
    volunteer: "I'll help sort",
    deal: "Give me a hand of cards",
    deal_next: "Sort another hand",
    hand_title: "Your hand",
    hand_help: "Choose a group under each card: cards in the same group share a theme; “same idea as” merges duplicates.",
    group_label: "Group",
    group_none: "Not sure",
    group_n: "Theme {n}",
    group_off: "Off-topic",
    same_idea_label: "Same idea as",
    same_idea_none: "— its own idea —",
    place_submit: "Send my grouping",
    placed: "Thanks! Your grouping was recorded.",
    nothing_left: "Nothing left to sort for now. Thank you!",
    sort_not_sorter: "You can also support the ideas you agree with.",
    jury_title: "You are on a jury",
    jury_text: "This card was reported. Should it be hidden?",
    jury_reason: "Reason given: {reason}",
    jury_hide: "Hide it",
    jury_keep: "Keep it",
    jury_done: "Thank you, your verdict counts.",
    evaluate_title: "Which matters more?",
    evaluate_intro: "Choose the idea you think is more important.",
    cant_decide: "Can't decide",
    evaluate_done: "You have compared every pair we had for you. Thank you!",
    evaluate_loading: "Loading the next pair…",
    done_count: "{n} answered",
    agree: "Agree", disagree: "Disagree", pass: "Pass",
    rating_send: "Send",
    approval_intro: "Approve up to {n} of these ideas",
    approval_status: "{used} of {limit} approved",
    budget_intro: "Share {n} points among these ideas",
    budget_status: "{used} of {limit} points given",
    results_title: "Results",
    results_empty: "Results are being computed…",
    rank: "#{n}",
    score: "score {score}",
    error_prefix: "Could not do that:",
    error_not_found: "This session code does not exist. Check it and try again.",
    error_campaign_full: "This session is full.",
    error_rate_limited: "Slow down a little, then try again.",
    card_ack: "Card added.",
    support_ack: "Support recorded.",
    phase_changed: "New phase: {title}",
    one_minute: "One minute left.",
    error_code_shape: "A session code has 4 to 12 letters and digits.",
    support_done: "You support “{text}”. Your box is free for another idea.",
    same_idea_mark: "= same idea as “{text}”",
    group_for: "Group for card {n}",
    grouping_empty: "No card grouped yet: choose a group under each card.",
    jury_arrived: "A reported card is waiting for your verdict.",
    jury_waiting: "{n} reported cards wait for your verdict",
    jury_waiting_one: "A reported card waits for your verdict",
    jury_open: "Judge now",
    jury_later: "Later",
    unsent_title: "Your card was not sent",
    unsent_text: "The collection ended while you were typing. Here is your text, kept on this phone:",
    copy: "Copy",
    copied: "Copied.",
    dismiss: "Dismiss",
    place_n: "Place {n}",
    place_tied: "Tied for place {n}",
    points_label: "{n} out of 100",
    scale_pairwise: "Scores out of 100: the chance that people pick this idea over an average one.",
    scale_approval: "Scores out of 100: how many of 100 people shown the idea approved it.",
    scale_budget: "Scores out of 100: the share of their points people gave the idea.",
    scale_ratings: "Scores out of 100: the idea's average rating on a 0–100 scale.",
    scale_agree_disagree: "Scores out of 100: how surely every opinion group agrees with the idea.",
    scale_other: "Scores out of 100: higher is better.",
  },
  fr: {
    app_name: "Essaim",
    lang_switch: "English",
    lang_switch_label: "Switch to English",
    join_title: "Rejoindre une session",
    join_code_label: "Code de la session",
    join_code_hint: "Le code de 6 caractères affiché par l'animateur",
    join_button: "Rejoindre",
    profile_title: "Quelques questions sur vous",
    profile_hint: "Facultatif. Vous restez anonyme : ni nom, ni e-mail.",
    profile_skip: "— je préfère ne pas répondre —",
    profile_continue: "Continuer",
    connecting: "Connexion…",
    reconnecting: "Connexion perdue. Reconnexion… Rien de ce que vous avez écrit n'est perdu.",
    online: "Connecté",
    pending_actions: "{n} actions en attente d'envoi",
    pending_actions_one: "{n} action en attente d'envoi",
    timer_label: "Temps restant dans cette phase",
    paused: "En pause",
    overtime: "Temps dépassé",
    participants: "{n} participants",
    participants_one: "{n} participant",
    cards: "{n} cartes",
    cards_one: "{n} carte",
    phase_of: "Phase {n} sur {total}",
    waiting_title: "En attente du départ",
    waiting_text: "L'animateur va bientôt lancer la session. Gardez cette page ouverte.",
    paused_text: "L'animateur a mis la session en pause.",
    finished_title: "Merci !",
    finished_text: "La session est terminée. Merci de votre participation.",
    between_text: "La phase suivante se prépare…",
    collect_title: "Partagez vos idées",
    prompt_label: "Question",
    card_label: "Votre idée",
    card_hint: "Une idée par carte. Les idées proches déjà proposées s'affichent dessous.",
    card_submit: "Ajouter ma carte",
    card_too_short: "Écrivez quelques mots de plus.",
    suggestions_title: "Idées proches déjà proposées",
    support_instead: "Soutenir plutôt celle-ci",
    supported: "Soutenue",
    my_cards: "Vos cartes ({n})",
    card_sending: "envoi…",
    card_hidden: "masquée par la modération",
    card_masked: "des données personnelles ont été masquées",
    supporters: "{n} soutiens",
    supporters_one: "{n} soutien",
    flag: "Signaler",
    flag_reason: "Pourquoi ? (facultatif)",
    flag_about: "Signaler « {text} »",
    flag_send: "Envoyer le signalement",
    flag_cancel: "Annuler",
    flag_done: "Signalé. Un petit jury de participants va décider.",
    sort_title: "Aidez à structurer les idées",
    sort_intro: "Regroupez une main d'environ 8 cartes : même idée, même thème ou hors sujet.",
    volunteer: "Je veux aider à trier",
    deal: "Me donner une main de cartes",
    deal_next: "Trier une autre main",
    hand_title: "Votre main",
    hand_help: "Choisissez un groupe sous chaque carte : les cartes d'un même groupe partagent un thème ; « même idée que » fusionne les doublons.",
    group_label: "Groupe",
    group_none: "Je ne sais pas",
    group_n: "Thème {n}",
    group_off: "Hors sujet",
    same_idea_label: "Même idée que",
    same_idea_none: "— idée à part —",
    place_submit: "Envoyer mon regroupement",
    placed: "Merci ! Votre regroupement est enregistré.",
    nothing_left: "Plus rien à trier pour l'instant. Merci !",
    sort_not_sorter: "Vous pouvez aussi soutenir les idées avec lesquelles vous êtes d'accord.",
    jury_title: "Vous faites partie d'un jury",
    jury_text: "Cette carte a été signalée. Faut-il la masquer ?",
    jury_reason: "Motif : {reason}",
    jury_hide: "La masquer",
    jury_keep: "La garder",
    jury_done: "Merci, votre avis compte.",
    evaluate_title: "Qu'est-ce qui compte le plus ?",
    evaluate_intro: "Choisissez l'idée qui vous semble la plus importante.",
    cant_decide: "Je ne sais pas",
    evaluate_done: "Vous avez comparé toutes les paires prévues pour vous. Merci !",
    evaluate_loading: "Chargement de la paire suivante…",
    done_count: "{n} réponses",
    done_count_one: "{n} réponse",
    agree: "D'accord", disagree: "Pas d'accord", pass: "Passer",
    rating_send: "Envoyer",
    approval_intro: "Approuvez jusqu'à {n} de ces idées",
    approval_status: "{used} sur {limit} approuvées",
    budget_intro: "Répartissez {n} points entre ces idées",
    budget_status: "{used} sur {limit} points donnés",
    results_title: "Résultats",
    results_empty: "Les résultats sont en cours de calcul…",
    rank: "n° {n}",
    score: "score {score}",
    error_prefix: "Impossible :",
    error_not_found: "Ce code de session n'existe pas. Vérifiez-le et réessayez.",
    error_campaign_full: "Cette session est complète.",
    error_rate_limited: "Ralentissez un peu, puis réessayez.",
    card_ack: "Carte ajoutée.",
    support_ack: "Soutien enregistré.",
    phase_changed: "Nouvelle phase : {title}",
    one_minute: "Plus qu'une minute.",
    error_code_shape: "Un code de session compte 4 à 12 lettres et chiffres.",
    support_done: "Vous soutenez « {text} ». Le champ est libre pour une autre idée.",
    same_idea_mark: "= même idée que « {text} »",
    group_for: "Groupe de la carte {n}",
    grouping_empty: "Aucune carte groupée : choisissez un groupe sous chaque carte.",
    jury_arrived: "Une carte signalée attend votre avis.",
    jury_waiting: "{n} cartes signalées attendent votre avis",
    jury_waiting_one: "Une carte signalée attend votre avis",
    jury_open: "Juger maintenant",
    jury_later: "Plus tard",
    unsent_title: "Votre carte n'a pas été envoyée",
    unsent_text: "La collecte s'est terminée pendant que vous écriviez. Voici votre texte, gardé sur ce téléphone :",
    copy: "Copier",
    copied: "Copié.",
    dismiss: "Fermer",
    place_n: "Place {n}",
    place_tied: "À égalité, place {n}",
    points_label: "{n} sur 100",
    scale_pairwise: "Notes sur 100 : la probabilité que l'on préfère cette idée à une idée moyenne.",
    scale_approval: "Notes sur 100 : combien de personnes sur 100 à qui l'idée a été présentée l'ont approuvée.",
    scale_budget: "Notes sur 100 : la part de leurs points que les participants ont donnée à l'idée.",
    scale_ratings: "Notes sur 100 : la note moyenne de l'idée, ramenée sur 100.",
    scale_agree_disagree: "Notes sur 100 : à quel point chaque groupe d'opinion est d'accord avec l'idée.",
    scale_other: "Notes sur 100 : plus c'est haut, mieux c'est.",
  },
};

export const LANGUAGES = Object.keys(STRINGS);
const LANG_KEY = "essaim:lang";

function initialLanguage() {
  const fromUrl = new URLSearchParams(location.search).get("lang");
  if (fromUrl && STRINGS[fromUrl]) return fromUrl;
  const saved = localStorage.getItem(LANG_KEY);
  if (saved && STRINGS[saved]) return saved;
  for (const wanted of navigator.languages || [navigator.language || "en"]) {
    const base = wanted.slice(0, 2).toLowerCase();
    if (STRINGS[base]) return base;
  }
  return "en";
}

let current = initialLanguage();

export function lang() {
  return current;
}

export function setLang(code) {
  if (!STRINGS[code]) return;
  current = code;
  localStorage.setItem(LANG_KEY, code);
  document.documentElement.lang = code;
}

/** The string for `key` in the current language, with {name} placeholders filled. */
export function t(key, params = {}) {
  // One plural variant is enough for English and French: "_one" for exactly 1 (French also uses it for 0).
  const one = params.n === 1 || (current === "fr" && params.n === 0);
  const table = STRINGS[current];
  const text = (one && table[`${key}_one`]) || table[key] || STRINGS.en[key] || key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in params ? String(params[name]) : `{${name}}`));
}

/** Add strings (the console's, the presenter's) to the tables: {en: {...}, fr: {...}}. */
export function extend(tables) {
  for (const [code, strings] of Object.entries(tables)) Object.assign(STRINGS[code] ||= {}, strings);
}

/**
 * The campaign's own texts in the current language: the template's
 * translations (welcome.campaign.translations) where it has them, its own
 * texts otherwise.
 */
export function campaignTexts(campaign) {
  const tr = campaign?.translations?.[current] || null;
  return {
    title: tr?.title || campaign?.title || "",
    phase: (index, fallback) => tr?.phases?.[index] || fallback,
    prompt: (p) => tr?.prompts?.[p.id] || p.text,
    translations: tr,
  };
}

/** Evaluation strategies whose scores have a sentence of their own. */
const SCALES = new Set(["pairwise", "approval", "budget", "ratings", "agree_disagree"]);

/** What a score out of 100 means in this campaign, in one sentence. */
export function scaleMeaning(campaign) {
  const strategies = (campaign?.phases || []).map((p) => p.strategy).filter((s) => SCALES.has(s));
  return t(strategies.length ? `scale_${strategies[strategies.length - 1]}` : "scale_other");
}

document.documentElement.lang = current;
