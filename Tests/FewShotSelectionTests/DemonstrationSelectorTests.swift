import FewShotCore
import Testing
@testable import FewShotSelection

/// Which demonstrations a request gets: the most similar, balanced across labels, ties and empty
/// queries in pool order, always returned in pool order.
@Suite struct DemonstrationSelectorTests {
    /// Two demonstrations per label of an AGNews-like task, in label order.
    static let pool = [
        Demonstration(label: "World", text: "Leaders meet at the summit to discuss the border dispute."),           // 0
        Demonstration(label: "World", text: "Election results spark protests in the capital."),                    // 1
        Demonstration(label: "Sports", text: "The striker scored twice as the club won the cup final."),           // 2
        Demonstration(label: "Sports", text: "Tennis champion withdraws from the open with an injury."),           // 3
        Demonstration(label: "Business", text: "Shares of the bank fell after profits missed forecasts."),         // 4
        Demonstration(label: "Business", text: "Oil prices rise as the cartel cuts output."),                      // 5
        Demonstration(label: "Sci/Tech", text: "A new chip doubles battery life in phones."),                      // 6
        Demonstration(label: "Sci/Tech", text: "Researchers publish the genome of the wheat plant."),              // 7
    ]

    func selector(k: Int, balanced: Bool = true, pool: [Demonstration] = Self.pool) -> DemonstrationSelector {
        DemonstrationSelector(pool: pool, rule: DemonstrationSelection(k: k, by: .similarity, balanced: balanced))
    }

    @Test func oneOfEachLabelEachTheLabelsMostSimilar() {
        let s = selector(k: 4)
        // Each label's second demonstration shares the query's words.
        #expect(s.selectedPositions(for: "Protests after the election; tennis injury; oil output cut; wheat genome") == [1, 3, 5, 7])
        #expect(s.selectedPositions(for: "border summit, cup final, bank profits, battery chip") == [0, 2, 4, 6])
        // A query about one label still gets one of each label; "the" decides among the others
        // (Sci/Tech's second holds it, its first does not).
        #expect(s.selectedPositions(for: "the oil cartel cuts output again") == [0, 2, 5, 7])
        #expect(s.select(for: "the oil cartel cuts output again").map(\.label) == ["World", "Sports", "Business", "Sci/Tech"])
    }

    @Test func unbalancedTakesTheTopK() {
        let s = selector(k: 2, balanced: false)
        #expect(s.selectedPositions(for: "oil prices and bank shares fell") == [4, 5])
        // Balanced, the same query gets the best Business one and, no other label matching, World's first.
        #expect(selector(k: 2).selectedPositions(for: "oil prices and bank shares fell") == [0, 4])
    }

    @Test func fewerThanTheLabelsTakesTheLabelsThatScoreHighest() {
        let s = selector(k: 2)
        #expect(s.selectedPositions(for: "tennis injury and the wheat genome") == [3, 7])
    }

    @Test func secondRoundsFollowOncePerLabel() {
        // k = 6 over 4 labels: a full round (1, 2, 4, 7), then the two labels whose second best score
        // highest: Business (5, 3.90) and World (0, 1.93), not Sports (3, 0.18) or Sci/Tech (6, 0).
        let chosen = selector(k: 6).selectedPositions(for: "the summit; the election; the striker; shares of the bank; oil prices")
        #expect(chosen == [0, 1, 2, 4, 5, 7])
    }

    @Test func kLargerThanThePoolGivesThePoolInOrder() {
        #expect(selector(k: 50).select(for: "anything at all") == Self.pool)
        #expect(selector(k: 50, balanced: false).select(for: "oil") == Self.pool)
    }

    @Test func aQueryWithoutCommonWordsGetsTheFirstKInBalancedPoolOrder() {
        #expect(selector(k: 4).selectedPositions(for: "") == [0, 2, 4, 6])
        #expect(selector(k: 4).selectedPositions(for: "zzz qqq") == [0, 2, 4, 6])
        #expect(selector(k: 3).selectedPositions(for: "") == [0, 2, 4])
        #expect(selector(k: 6).selectedPositions(for: "") == [0, 1, 2, 3, 4, 6])
        #expect(selector(k: 3, balanced: false).selectedPositions(for: "") == [0, 1, 2])
    }

    @Test func equalScoresGoInPoolOrder() {
        let pool = [
            Demonstration(label: "a", text: "red apple"),
            Demonstration(label: "a", text: "red apple"),
            Demonstration(label: "b", text: "green pear"),
            Demonstration(label: "b", text: "green pear"),
        ]
        #expect(selector(k: 1, balanced: false, pool: pool).selectedPositions(for: "apple") == [0])
        #expect(selector(k: 2, pool: pool).selectedPositions(for: "apple pear") == [0, 2])
        #expect(selector(k: 3, balanced: false, pool: pool).selectedPositions(for: "apple pear") == [0, 1, 2])
    }

    @Test func anExtractionPoolIsOneGroupSoItsTopK() {
        let group = TaskTemplate.extractionGroup
        let pool = [
            Demonstration(label: group, text: "A ghost haunts a house in Kyoto.", answer: "horror"),
            Demonstration(label: group, text: "Two friends laugh through a road trip.", answer: "comedy"),
            Demonstration(label: group, text: "A haunted ship and its ghost crew.", answer: "horror"),
        ]
        #expect(selector(k: 2, pool: pool).select(for: "a ghost story").map(\.answer) == ["horror", "horror"])
    }

    @Test func theSameRequestGetsTheSameChoice() {
        let s = selector(k: 4)
        let query = "bank profits and the cup final"
        let first = s.selectedPositions(for: query)
        for _ in 0..<20 { #expect(s.selectedPositions(for: query) == first) }
        #expect(DemonstrationSelector(pool: Self.pool, rule: s.rule).selectedPositions(for: query) == first)
    }
}
