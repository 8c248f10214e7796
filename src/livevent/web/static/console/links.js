// The links to hand out: listener pages with QR codes (printable), and the speak pages.
import { api } from "/static/console/api.js";
import { h } from "/static/console/dom.js";

export async function linksView(box, event) {
  const answer = await api(`/api/events/${event.id}/links`);
  if (!answer.ok) {
    box.append(h("p", {}, answer.detail));
    return;
  }
  const { listen, speak } = answer.data;
  const print = h("button", { type: "button", class: "secondary no-print" }, "Print the QR codes");
  print.addEventListener("click", () => {
    document.body.classList.add("printing-links");
    window.print();
    document.body.classList.remove("printing-links");
  });
  box.append(
    h("p", { class: "muted" }, event.public ? "Anyone with a link can listen." : "This event is private: listeners also need a token."),
    h(
      "ul",
      { class: "qr-codes" },
      listen.map((link) =>
        h(
          "li",
          {},
          h("img", { src: link.qr, alt: `QR code for the ${link.label} channel`, width: "148", height: "148" }),
          h("a", { href: link.url }, `Listen: ${link.label}`),
          h("small", { class: "url" }, link.url),
        ),
      ),
    ),
    print,
    h("h4", { class: "no-print" }, "Speak pages"),
    h(
      "ul",
      { class: "no-print" },
      speak.map((link) => h("li", {}, h("a", { href: link.url }, `Speak: ${link.label}`), " ", h("small", { class: "url" }, link.url))),
    ),
  );
}
